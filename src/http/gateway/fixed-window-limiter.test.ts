import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../domain/errors.js';
import { FixedWindowLimiter } from './fixed-window-limiter.js';

test('a source is limited per minute with Retry-After, other sources are not, and the window resets', () => {
  let now = 1_000_000;
  const limiter = new FixedWindowLimiter(2, 100, () => now);
  limiter.take('a');
  limiter.take('a');
  assert.throws(
    () => limiter.take('a'),
    (e: unknown) => e instanceof AppError && e.code === 'RATE_LIMIT_EXCEEDED' && e.headers['Retry-After'] === '60',
  );
  limiter.take('b');
  now += 60_000;
  limiter.take('a');
});

test('past maxKeys, new sources share one overflow bucket (memory stays bounded)', () => {
  const limiter = new FixedWindowLimiter(1, 2, () => 0);
  limiter.take('a');
  limiter.take('b');
  limiter.take('c');
  assert.throws(() => limiter.take('d'), AppError);
});
