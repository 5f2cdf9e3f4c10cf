import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { hashToken, isPersonalToken, newTokenSecret } from './personal-tokens.js';

test('a token is afp_ and 32 base62 characters, different every time', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const token = newTokenSecret();
    assert.match(token, /^afp_[0-9A-Za-z]{32}$/);
    assert.ok(isPersonalToken(token));
    seen.add(token);
  }
  assert.equal(seen.size, 200);
});

test('every base62 character is used (no bias towards a subset)', () => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 400; i++) for (const c of newTokenSecret().slice(4)) counts.set(c, (counts.get(c) ?? 0) + 1);
  assert.equal(counts.size, 62);
});

test('stored as the SHA-256 of the whole token; a JWT is not a personal token', () => {
  const token = newTokenSecret();
  assert.equal(hashToken(token), createHash('sha256').update(token).digest('hex'));
  assert.equal(isPersonalToken('eyJhbGciOiJIUzI1NiJ9.e30.x'), false);
});
