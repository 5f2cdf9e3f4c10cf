import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSize, parseSize } from './sizes.js';

test('sizes parse in binary multiples with or without a unit suffix', () => {
  assert.equal(parseSize('2g'), 2 * 1024 ** 3);
  assert.equal(parseSize('512M'), 512 * 1024 ** 2);
  assert.equal(parseSize('1.5GiB'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('64 kb'), 64 * 1024);
  assert.equal(parseSize(4096), 4096);
  assert.equal(parseSize('100'), 100);
});

test('what is not a size is refused', () => {
  for (const bad of ['', 'g', '-1m', '1x', '0', 0, -5, 1.5, '1e9']) assert.equal(parseSize(bad), null, String(bad));
});

test('sizes print in the largest whole-ish unit', () => {
  assert.equal(formatSize(2 * 1024 ** 3), '2 GiB');
  assert.equal(formatSize(1.5 * 1024 ** 3), '1.5 GiB');
  assert.equal(formatSize(512 * 1024 ** 2), '512 MiB');
  assert.equal(formatSize(100), '100 bytes');
});
