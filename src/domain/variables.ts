/**
 * Rules for user-supplied environment variable names. A name that changes how processes start
 * (loader paths, shell start-up files, git's own configuration) would let a run escape its step,
 * so such names are refused at the API boundary and again by the engine.
 */
export const VARIABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MAX_VARIABLE_NAME_LENGTH = 128;
export const MAX_VARIABLE_VALUE_LENGTH = 64 * 1024;
export const MAX_VARIABLES = 200;

const DENIED_NAMES = new Set([
  'PATH',
  'HOME',
  'SHELL',
  'IFS',
  'ENV',
  'BASH_ENV',
  'BASHOPTS',
  'SHELLOPTS',
  'PS4',
  'PROMPT_COMMAND',
  'CDPATH',
  'GLOBIGNORE',
  'NODE_OPTIONS',
  'NODE_PATH',
  'PYTHONPATH',
  'PYTHONSTARTUP',
  'PYTHONHOME',
  'PERL5OPT',
  'PERL5LIB',
  'RUBYOPT',
  'RUBYLIB',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'SSH_ASKPASS',
  'SSH_AUTH_SOCK',
  'ANSIBLE_CONFIG',
  'TMPDIR',
]);
const DENIED_PREFIXES = ['LD_', 'DYLD_', 'GIT_', 'BASH_FUNC_', 'ANSFLOW_'];

/** Returns why a name is refused, or null when it is acceptable. */
export function variableNameProblem(name: string): string | null {
  if (name.length === 0) return 'Variable name must not be empty';
  if (name.length > MAX_VARIABLE_NAME_LENGTH) return `Variable name must be at most ${MAX_VARIABLE_NAME_LENGTH} characters`;
  if (!VARIABLE_NAME_PATTERN.test(name)) return 'Variable name must match [A-Za-z_][A-Za-z0-9_]*';
  const upper = name.toUpperCase();
  if (DENIED_NAMES.has(upper)) return `Variable name ${name} is reserved: it changes how processes start`;
  const prefix = DENIED_PREFIXES.find((p) => upper.startsWith(p));
  if (prefix) return `Variable names starting with ${prefix} are reserved`;
  return null;
}

export function variableValueProblem(value: string): string | null {
  if (value.length > MAX_VARIABLE_VALUE_LENGTH) return `Variable value must be at most ${MAX_VARIABLE_VALUE_LENGTH} characters`;
  if (value.includes('\0')) return 'Variable value must not contain NUL bytes';
  return null;
}
