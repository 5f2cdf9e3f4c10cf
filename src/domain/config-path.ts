/**
 * Where a pipeline's file lives in its repository (`config_path`). It is read with
 * `git show <commit>:<path>` from the platform's mirror, so it must name a file inside the tree:
 * relative, no `..`, no `.git` folder, nothing git would read as an option or a revision range,
 * no control characters.
 */
export const MAX_CONFIG_PATH_LENGTH = 255;

/** Why a path is refused, or null when it is a safe relative path. */
export function configPathProblem(path: string): string | null {
  if (path.length === 0) return 'The path may not be blank.';
  if (path.length > MAX_CONFIG_PATH_LENGTH) return `The path must be at most ${MAX_CONFIG_PATH_LENGTH} characters.`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return 'The path may not contain control characters or backslashes.';
  if (path.startsWith('/')) return 'The path must be relative to the repository root (no leading "/").';
  if (path.startsWith('-')) return 'The path may not start with "-".';
  if (/[:*?[\]~^]/.test(path)) return 'The path may not contain : * ? [ ] ~ ^.';
  const segments = path.split('/');
  if (segments.some((s) => s === '')) return 'The path may not contain empty segments or end with "/".';
  if (segments.some((s) => s === '.' || s === '..')) return 'The path may not contain "." or ".." segments.';
  if (segments.some((s) => s.toLowerCase() === '.git')) return 'The path may not go through a .git folder.';
  return null;
}
