/**
 * Globs over file paths for `when.paths` / `paths_ignore`, matched against the whole path
 * relative to the repository root, case-sensitively:
 *   `*` any run of characters except `/`; `?` one character except `/`;
 *   `**` anything, slashes included, and `**\/` also zero folders (`src/**\/*.ts` matches `src/a.ts`).
 * Every other character is literal. `docs/` alone matches nothing: write `docs/**`.
 */
const cache = new Map<string, RegExp>();

export function pathMatches(pattern: string, path: string): boolean {
  let re = cache.get(pattern);
  if (!re) {
    re = globToRegExp(pattern);
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, re);
  }
  return re.test(path);
}

function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*' && pattern[i + 1] === '*') {
      if (pattern[i + 2] === '/') {
        source += '(?:.*/)?';
        i += 2;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else source += ch.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/** Why a glob can never match a repository path, or null. */
export function pathGlobProblem(pattern: string): string | null {
  if (pattern.startsWith('/')) return 'Paths are relative to the repository root: drop the leading "/".';
  if (pattern.startsWith('./')) return 'Paths are relative to the repository root: drop the leading "./".';
  return null;
}
