/**
 * Matches a pipeline's `branch` setting against the branch (or tag) of a webhook event.
 *
 * The setting is one pattern or a comma-separated list (`main,release/*`); whitespace around
 * items is ignored and the event matches when any item matches. Each item is matched against the
 * whole name, case-sensitively (git refs are case-sensitive):
 *   - no wildcard: exact match (`main` matches only `main`);
 *   - `*` matches any run of characters except `/` (`release/*` matches `release/1.2`, not
 *     `release/1/2`; `*` alone matches every branch without a slash), as in Woodpecker's and
 *     Jenkins' branch filters (doublestar/Ant style);
 *   - `**` matches anything, slashes included (`**` matches every branch, `feature/**` matches
 *     `feature/a/b`).
 * Every other character is literal (`.` `?` `[` included): branch settings are validated as ref
 * names, where those are either forbidden or meant literally. An empty setting matches nothing.
 */
export function branchMatches(setting: string, branch: string): boolean {
  if (branch.length === 0) return false;
  return splitPatterns(setting).some((pattern) => patternToRegExp(pattern).test(branch));
}

export function splitPatterns(setting: string): string[] {
  return setting
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

function patternToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        // `**/` also matches zero directories, so `a/**/b` matches `a/b`.
        if (pattern[i + 2] === '/') {
          source += '(?:.*/)?';
          i += 2;
        } else {
          source += '.*';
          i += 1;
        }
      } else {
        source += '[^/]*';
      }
    } else {
      source += ch.replace(/[.+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}
