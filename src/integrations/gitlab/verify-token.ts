/**
 * Verifies a GitLab delivery: GitLab sends the configured secret verbatim in `X-Gitlab-Token`
 * (no HMAC). Both sides are hashed with SHA-256 before timingSafeEqual, so the comparison takes
 * the same time whatever the lengths, and a prefix of the token, a trailing space or a different
 * case all fail. The value is compared exactly as received: no trimming.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { headerProblem, type HeaderValue, type VerifyResult } from '../verify-result.js';

export function verifyGitlabToken(input: { expected: string; token: HeaderValue }): VerifyResult {
  if (input.expected.length === 0) return { ok: false, reason: 'No GitLab webhook token is configured' };
  const problem = headerProblem('X-Gitlab-Token', input.token);
  if (problem !== null) return { ok: false, reason: problem };
  // headerProblem passed: one non-empty string.
  const token = input.token as string;
  const same = timingSafeEqual(sha256(token), sha256(input.expected));
  return same ? { ok: true } : { ok: false, reason: 'X-Gitlab-Token does not match' };
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
