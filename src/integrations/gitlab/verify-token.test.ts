import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readJsonFixture } from '../../../test/support/fixtures.js';
import { verifyGitlabToken } from './verify-token.js';

interface HeaderExamples {
  token: string;
  deliveries: Array<{ file: string; headers: Record<string, string> }>;
}
const examples = readJsonFixture<HeaderExamples>('webhooks', 'gitlab', 'headers.examples.json');
const TOKEN = 'test-gitlab-token';

function reasonOf(result: ReturnType<typeof verifyGitlabToken>): string {
  assert.equal(result.ok, false);
  return result.ok ? '' : result.reason;
}

test('the token in every fixture delivery verifies', () => {
  assert.equal(examples.token, TOKEN);
  assert.ok(examples.deliveries.length >= 10);
  for (const delivery of examples.deliveries) {
    assert.deepEqual(verifyGitlabToken({ expected: TOKEN, token: delivery.headers['X-Gitlab-Token'] }), { ok: true }, delivery.file);
  }
});

test('near-miss tokens are rejected', () => {
  const cases = [TOKEN.slice(0, -1), `${TOKEN} `, ` ${TOKEN}`, TOKEN.toUpperCase(), `${TOKEN}x`, 'x'];
  for (const token of cases) {
    assert.match(reasonOf(verifyGitlabToken({ expected: TOKEN, token })), /does not match/, JSON.stringify(token));
  }
});

test('missing, empty and repeated tokens are rejected with their own reasons', () => {
  assert.match(reasonOf(verifyGitlabToken({ expected: TOKEN, token: undefined })), /Missing/);
  assert.match(reasonOf(verifyGitlabToken({ expected: TOKEN, token: null })), /Missing/);
  assert.match(reasonOf(verifyGitlabToken({ expected: TOKEN, token: '' })), /Empty/);
  assert.match(reasonOf(verifyGitlabToken({ expected: TOKEN, token: [TOKEN, TOKEN] })), /exactly once/);
});

test('no configured token rejects every delivery, even an empty one', () => {
  assert.match(reasonOf(verifyGitlabToken({ expected: '', token: '' })), /No GitLab webhook token/);
  assert.match(reasonOf(verifyGitlabToken({ expected: '', token: 'anything' })), /No GitLab webhook token/);
});
