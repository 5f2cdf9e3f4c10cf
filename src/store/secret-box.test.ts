import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { keyId, SecretBox, type KeySource, type SecretKeys } from './secret-box.js';

const KEY = 'k'.repeat(40);
const NEW_KEY = 'n'.repeat(40);

/** A value as the box sealed it before key ids existed (format v1). */
function sealV1(secretKey: string, plain: string): string {
  const key = Buffer.from(hkdfSync('sha256', secretKey, 'ansflow', 'variables-at-rest', 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join(':');
}

test('a sealed value opens to the original, does not contain it, and names its key', () => {
  const box = new SecretBox(KEY);
  const sealed = box.seal('hunter2-secret');
  assert.ok(!sealed.includes('hunter2'));
  assert.ok(sealed.startsWith(`v2:${keyId(KEY)}:`));
  assert.equal(box.open(sealed), 'hunter2-secret');
  assert.equal(box.open(box.seal('')), '', 'an empty value round-trips');
});

test('sealing twice gives different ciphertexts (random IV)', () => {
  const box = new SecretBox(KEY);
  assert.notEqual(box.seal('x'), box.seal('x'));
});

test('a tampered ciphertext or another key is refused', () => {
  const sealed = new SecretBox(KEY).seal('value');
  const parts = sealed.split(':');
  const data = Buffer.from(parts[4]!, 'base64url');
  data[0] = data[0]! ^ 1;
  parts[4] = data.toString('base64url');
  assert.throws(() => new SecretBox(KEY).open(parts.join(':')));
  assert.throws(() => new SecretBox('z'.repeat(40)).open(sealed), /key id/);
  assert.throws(() => new SecretBox(KEY).open('plain'), /known sealed format/);
});

test('v1 values (no key id) open with the current key and with a previous one', () => {
  assert.equal(new SecretBox(KEY).open(sealV1(KEY, 'old')), 'old');
  const ring = new SecretBox({ current: NEW_KEY, previous: [KEY] });
  assert.equal(ring.open(sealV1(KEY, 'old')), 'old');
  assert.throws(() => new SecretBox(NEW_KEY).open(sealV1(KEY, 'old')), /any key/);
});

test('a ring: the current key seals, every key opens, reseal moves a value to the current key', () => {
  const old = new SecretBox(KEY);
  const ring = new SecretBox({ current: NEW_KEY, previous: [KEY] });
  const sealedOld = old.seal('s1');
  assert.equal(ring.open(sealedOld), 's1');
  assert.equal(ring.isCurrent(sealedOld), false);
  const moved = ring.reseal(sealedOld);
  assert.ok(ring.isCurrent(moved));
  assert.equal(ring.reseal(moved), moved, 'a current value is left as it is');
  assert.equal(new SecretBox(NEW_KEY).open(moved), 's1');
  assert.equal(ring.isCurrent(sealV1(NEW_KEY, 'x')), false, 'v1 values are always re-sealed');
});

test('a box on a key source reloads on an unknown key id and before sealing after a change', () => {
  let keys: SecretKeys = { current: KEY, previous: [] };
  let changed = false;
  let loads = 0;
  const source: KeySource = {
    load: () => {
      loads++;
      changed = false;
      return keys;
    },
    changed: () => changed,
  };
  const box = new SecretBox(source);
  assert.equal(loads, 1);
  // Another process rotated: its values carry the new key's id.
  keys = { current: NEW_KEY, previous: [KEY] };
  const fromElsewhere = new SecretBox(keys).seal('rotated');
  assert.equal(box.open(fromElsewhere), 'rotated');
  assert.equal(loads, 2);
  assert.equal(box.currentKeyId, keyId(NEW_KEY));

  keys = { current: 'm'.repeat(40), previous: [NEW_KEY] };
  changed = true;
  assert.ok(box.seal('x').startsWith(`v2:${keyId('m'.repeat(40))}:`));
  assert.equal(loads, 3);
  box.seal('y');
  assert.equal(loads, 3, 'no reload while the source is unchanged');
});
