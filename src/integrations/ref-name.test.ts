import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFullCommitSha, isZeroSha, webhookRefProblem } from './ref-name.js';

test('full lowercase SHA-1 and SHA-256 ids are commits; anything else is not', () => {
  assert.equal(isFullCommitSha('6113728f27ae82c7b1a177c8d03f9e96e0adf246'), true);
  assert.equal(isFullCommitSha('a'.repeat(64)), true);
  for (const bad of ['6113728', '6113728F27AE82C7B1A177C8D03F9E96E0ADF246', 'g'.repeat(40), 'a'.repeat(41), `${'a'.repeat(40)}\n`, ''])
    assert.equal(isFullCommitSha(bad), false, bad);
});

test('only all-zero ids are the null commit', () => {
  assert.equal(isZeroSha('0'.repeat(40)), true);
  assert.equal(isZeroSha(`${'0'.repeat(39)}1`), false);
  assert.equal(isZeroSha(''), false);
});

test('refs with shell metacharacters are refused even where git allows them', () => {
  for (const ref of ['a$b', 'a`b`', 'a;b', 'a|b', 'a&b', 'a<b', 'a>b', "a'b", 'a"b', 'a(b)', 'a!b'])
    assert.match(webhookRefProblem(ref) ?? '', /shell metacharacters/, ref);
  for (const ref of ['-x', 'a b', 'a..b', 'a~1', 'x.lock', '']) assert.ok(webhookRefProblem(ref), ref);
  for (const ref of ['main', 'feature/x-1', 'release/1.2.3', 'user/#42', 'a+b', 'a@b', 'a{b}', 'a=b,c']) assert.equal(webhookRefProblem(ref), null, ref);
});
