import { test } from 'node:test';
import assert from 'node:assert/strict';
import { artifactKey, artifactPrefix, InvalidArtifactKeyError } from './artifact-key.js';

test('ordinary keys pass unchanged', () => {
  for (const key of ['runs/12/artifacts/3/dist.tar.gz', 'caches/7/node-modules-v1@main', 'a', 'x/y_z/w.1-2+3=4,5']) {
    assert.equal(artifactKey(key), key);
  }
});

test('keys that climb, hide or smuggle are refused, saying why', () => {
  const bad = [
    '',
    '/abs',
    'a//b',
    'a/../b',
    '..',
    '.',
    'a/./b',
    'a/',
    '../secret.key',
    '..%2f..%2fsecret.key',
    'a\\b',
    'a/.hidden',
    'a b',
    'é',
    'a\0b',
    '-flag',
    'x'.repeat(1025),
  ];
  for (const key of bad) {
    assert.throws(() => artifactKey(key), InvalidArtifactKeyError, key);
  }
  assert.throws(() => artifactKey('a/../b'), /"\." or "\.\." path segment/);
});

test('prefixes are empty or a key and a slash', () => {
  assert.equal(artifactPrefix(''), '');
  assert.equal(artifactPrefix('runs/1/'), 'runs/1/');
  assert.throws(() => artifactPrefix('runs/1'), /ends with "\/"/);
  assert.throws(() => artifactPrefix('../'), InvalidArtifactKeyError);
});
