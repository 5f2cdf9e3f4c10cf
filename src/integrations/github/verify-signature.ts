/**
 * Verifies a GitHub delivery: `X-Hub-Signature-256: sha256=<hex>` must equal
 * HMAC-SHA256(secret, raw body bytes). Only the exact form GitHub sends is accepted: the
 * `sha256=` prefix and 64 lowercase hex digits. Uppercase hex is refused on purpose: GitHub never
 * sends it, and accepting one spelling keeps the check a plain byte comparison. The legacy SHA-1
 * header (`X-Hub-Signature`) alone is refused: SHA-1 HMAC is what GitHub keeps for old receivers.
 * The digest comparison is constant-time (timingSafeEqual on two 32-byte buffers).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { headerProblem, type HeaderValue, type VerifyResult } from '../verify-result.js';

const PREFIX = 'sha256=';
const DIGEST_HEX = /^[0-9a-f]{64}$/;

export function verifyGithubSignature(input: {
  secret: string;
  body: Uint8Array;
  /** `X-Hub-Signature-256` */
  signature256: HeaderValue;
  /** `X-Hub-Signature` (SHA-1), only to explain a rejection. */
  signature1?: HeaderValue;
}): VerifyResult {
  if (input.secret.length === 0) return fail('No GitHub webhook secret is configured');
  const sent = input.signature256;
  const sha1Only = (sent === undefined || sent === null) && input.signature1 !== undefined && input.signature1 !== null;
  if (sha1Only) return fail('Only the SHA-1 X-Hub-Signature was sent; X-Hub-Signature-256 is required');
  const problem = headerProblem('X-Hub-Signature-256', sent);
  if (problem !== null) return fail(problem);
  // headerProblem passed: one non-empty string.
  const header = sent as string;
  if (!header.startsWith(PREFIX)) return fail('X-Hub-Signature-256 must start with "sha256="');
  const hex = header.slice(PREFIX.length);
  if (!DIGEST_HEX.test(hex)) {
    if (/^[0-9a-fA-F]{64}$/.test(hex)) return fail('X-Hub-Signature-256 must use lowercase hex');
    if (/^[0-9a-fA-F]*$/.test(hex)) return fail(`X-Hub-Signature-256 digest must be 64 hex digits, got ${hex.length}`);
    return fail('X-Hub-Signature-256 digest is not hex');
  }
  const expected = createHmac('sha256', input.secret).update(input.body).digest();
  const given = Buffer.from(hex, 'hex');
  // Both are 32 bytes here (the regex fixed the length), as timingSafeEqual requires.
  if (!timingSafeEqual(expected, given)) return fail('X-Hub-Signature-256 does not match the body');
  return { ok: true };
}

/** The header value GitHub would send for `body`: for tests and tools that sign deliveries. */
export function signGithubBody(secret: string, body: Uint8Array): string {
  return PREFIX + createHmac('sha256', secret).update(body).digest('hex');
}

function fail(reason: string): VerifyResult {
  return { ok: false, reason };
}
