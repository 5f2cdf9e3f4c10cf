import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUnavailable, retryWhileUnavailable } from './unavailable.js';

test('connection failures are "unavailable"; query errors are not', () => {
  assert.equal(isUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), true);
  assert.equal(isUnavailable(new Error('Connection terminated unexpectedly')), true);
  assert.equal(isUnavailable(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })), true);
  assert.equal(isUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' })), false);
  assert.equal(isUnavailable(new Error('syntax error')), false);
});

test('retries through unavailability until the write succeeds', async () => {
  let calls = 0;
  const result = await retryWhileUnavailable(async () => {
    calls += 1;
    if (calls < 3) throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    return 'stored';
  });
  assert.equal(result, 'stored');
  assert.equal(calls, 3);
});

test('other errors and an exhausted deadline are thrown', async () => {
  await assert.rejects(
    retryWhileUnavailable(async () => {
      throw new Error('syntax error');
    }),
    /syntax error/,
  );
  let calls = 0;
  await assert.rejects(
    retryWhileUnavailable(
      async () => {
        calls += 1;
        throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
      },
      { maxMs: 250 },
    ),
    /refused/,
  );
  assert.ok(calls >= 2 && calls <= 4, `retried a bounded number of times (${calls})`);
});
