import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretBox } from './secret-box.js';

const KEY = 'k'.repeat(40);

test('a sealed value opens to the original and does not contain it', () => {
  const box = new SecretBox(KEY);
  const sealed = box.seal('hunter2-secret');
  assert.ok(!sealed.includes('hunter2'));
  assert.equal(box.open(sealed), 'hunter2-secret');
});

test('sealing twice gives different ciphertexts (random IV)', () => {
  const box = new SecretBox(KEY);
  assert.notEqual(box.seal('x'), box.seal('x'));
});

test('a tampered ciphertext or another key is refused', () => {
  const sealed = new SecretBox(KEY).seal('value');
  const parts = sealed.split(':');
  const data = Buffer.from(parts[3]!, 'base64url');
  data[0] = data[0]! ^ 1;
  parts[3] = data.toString('base64url');
  assert.throws(() => new SecretBox(KEY).open(parts.join(':')));
  assert.throws(() => new SecretBox('z'.repeat(40)).open(sealed));
  assert.throws(() => new SecretBox(KEY).open('plain'));
});
