import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixture, readJsonFixture } from '../../../test/support/fixtures.js';
import { signGithubBody, verifyGithubSignature } from './verify-signature.js';

interface SignedExamples {
  github_docs_test_vector: { secret: string; payload: string; 'X-Hub-Signature-256': string };
  secret: string;
  deliveries: Array<{ file: string; headers: Record<string, string> }>;
}
const examples = readJsonFixture<SignedExamples>('webhooks', 'github', 'headers.signed-examples.json');
const SECRET = 'test-webhook-secret';

function reasonOf(result: ReturnType<typeof verifyGithubSignature>): string {
  assert.equal(result.ok, false);
  return result.ok ? '' : result.reason;
}

test("GitHub's documented test vector verifies", () => {
  const v = examples.github_docs_test_vector;
  const result = verifyGithubSignature({ secret: v.secret, body: Buffer.from(v.payload), signature256: v['X-Hub-Signature-256'] });
  assert.deepEqual(result, { ok: true });
  assert.equal(signGithubBody(v.secret, Buffer.from(v.payload)), v['X-Hub-Signature-256']);
});

test('every signed fixture delivery verifies against the exact file bytes', () => {
  assert.equal(examples.secret, SECRET);
  assert.ok(examples.deliveries.length >= 9);
  for (const delivery of examples.deliveries) {
    const body = readFixture('webhooks', 'github', delivery.file);
    const result = verifyGithubSignature({ secret: SECRET, body, signature256: delivery.headers['X-Hub-Signature-256'] });
    assert.deepEqual(result, { ok: true }, delivery.file);
  }
});

test('changing one byte of a signed body fails verification', () => {
  for (const delivery of examples.deliveries) {
    const body = Buffer.from(readFixture('webhooks', 'github', delivery.file));
    const at = Math.floor(body.length / 2);
    body[at] = (body[at] as number) ^ 0x01;
    const result = verifyGithubSignature({ secret: SECRET, body, signature256: delivery.headers['X-Hub-Signature-256'] });
    assert.match(reasonOf(result), /does not match/, delivery.file);
  }
});

test('a signature made with another secret fails', () => {
  const delivery = examples.deliveries[0]!;
  const body = readFixture('webhooks', 'github', delivery.file);
  const result = verifyGithubSignature({ secret: 'other-secret', body, signature256: delivery.headers['X-Hub-Signature-256'] });
  assert.match(reasonOf(result), /does not match/);
});

test('malformed signature headers are rejected with a reason each', () => {
  const body = Buffer.from('{"zen":"x"}');
  const good = signGithubBody(SECRET, body);
  const hex = good.slice('sha256='.length);
  const cases: Array<[string, Parameters<typeof verifyGithubSignature>[0]['signature256'], RegExp]> = [
    ['missing', undefined, /Missing X-Hub-Signature-256/],
    ['null', null, /Missing X-Hub-Signature-256/],
    ['empty', '', /Empty/],
    ['truncated', good.slice(0, -2), /64 hex digits, got 62/],
    ['prefix only', 'sha256=', /64 hex digits, got 0/],
    ['uppercase hex', `sha256=${hex.toUpperCase()}`, /lowercase/],
    ['uppercase prefix', `SHA256=${hex}`, /must start with "sha256="/],
    ['sha1 prefix', `sha1=${hex}`, /must start with "sha256="/],
    ['no prefix', hex, /must start with "sha256="/],
    ['non-hex', `sha256=${'z'.repeat(64)}`, /not hex/],
    ['trailing space', `${good} `, /not hex/],
    ['repeated header', [good, good], /exactly once/],
  ];
  for (const [name, header, reason] of cases) {
    assert.match(reasonOf(verifyGithubSignature({ secret: SECRET, body, signature256: header })), reason, name);
  }
  // The well-formed header passes, so each rejection above is caused by its defect alone.
  assert.deepEqual(verifyGithubSignature({ secret: SECRET, body, signature256: good }), { ok: true });
});

test('a delivery signed only with SHA-1 is rejected and says why', () => {
  const delivery = examples.deliveries[0]!;
  const body = readFixture('webhooks', 'github', delivery.file);
  const result = verifyGithubSignature({ secret: SECRET, body, signature256: undefined, signature1: delivery.headers['X-Hub-Signature'] });
  assert.match(reasonOf(result), /Only the SHA-1 X-Hub-Signature/);
});

test('no configured secret rejects every delivery', () => {
  const body = Buffer.from('{}');
  assert.match(reasonOf(verifyGithubSignature({ secret: '', body, signature256: signGithubBody('', body) })), /No GitHub webhook secret/);
});
