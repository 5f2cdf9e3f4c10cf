/**
 * `[skip ci]` and `[ci skip]` in the head commit's message start nothing, as on GitHub Actions,
 * GitLab CI and Woodpecker (case-insensitive, anywhere in the message). For a GitHub pull request
 * the delivery carries no commit message; its title stands in for it, as Woodpecker does.
 */
const SKIP_CI = /\[(?:skip ci|ci skip)\]/i;

/** The marker found in the message (as written), or null. */
export function skipCiMarker(message: string | undefined): string | null {
  if (message === undefined) return null;
  return SKIP_CI.exec(message)?.[0] ?? null;
}
