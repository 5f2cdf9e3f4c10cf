/**
 * Globs that select files of a run's workspace (artifact and cache paths). They are relative to the
 * workspace and can never name anything outside it: no absolute paths, no `..`, no home (`~`), no
 * backslashes (which picomatch would read as escapes on one system and separators on another).
 */
export const MAX_WORKSPACE_GLOBS = 50;

/** Why the glob is refused, or null when it is fine. */
export function workspaceGlobProblem(glob: string): string | null {
  if (typeof glob !== 'string' || glob.trim() === '') return 'A path glob may not be empty.';
  if (glob.length > 500) return 'A path glob is at most 500 characters.';
  if (glob.startsWith('/')) return `"${glob}" is absolute; globs are relative to the workspace.`;
  if (glob.startsWith('~')) return `"${glob}" names a home folder; globs are relative to the workspace.`;
  if (glob.includes('\\')) return `"${glob}" contains a backslash; use "/" between folders.`;
  if (glob.includes('\0')) return 'A path glob may not contain a NUL character.';
  if (glob.split('/').some((segment) => segment === '..')) return `"${glob}" climbs out with "..".`;
  return null;
}
