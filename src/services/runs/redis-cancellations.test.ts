/** A cancel requested in one process aborts the run in the process that executes it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCancellations } from './cancellation.js';
import { RedisCancellations } from './redis-cancellations.js';
import { connectTestRedis } from '../../../test/support/redis.js';
import { waitFor } from '../../../test/support/wait.js';

test('a cancel requested through one process reaches the run executing in another', { timeout: 30000 }, async (t) => {
  const redis = await connectTestRedis();
  if (!redis) return t.skip('Redis unreachable');
  const apiLocal = new LocalCancellations();
  const workerLocal = new LocalCancellations();
  const api = new RedisCancellations({ redisUrl: redis.url, prefix: redis.prefix, local: apiLocal });
  const worker = new RedisCancellations({ redisUrl: redis.url, prefix: redis.prefix, local: workerLocal });
  try {
    await Promise.all([api.ready(), worker.ready()]);
    const running = workerLocal.register(7);
    const other = workerLocal.register(8);
    api.request(7);
    api.request(99); // running nowhere: ignored everywhere
    await waitFor(async () => running.signal.aborted, 5000, 'run 7 aborted in the worker');
    assert.deepEqual(running.signal.reason, { kind: 'cancel' });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(other.signal.aborted, false, 'other runs keep going');
    assert.equal(api.dropped, 0);
  } finally {
    await Promise.all([api.close(), worker.close()]);
    await redis.cleanup();
  }
});

test('a cancel requested in the process running the run aborts it at once, without Redis', async () => {
  const local = new LocalCancellations();
  const cancellations = new RedisCancellations({ redisUrl: 'redis://127.0.0.1:1', local, prefix: 'unused' });
  try {
    const controller = local.register(3);
    cancellations.request(3);
    assert.equal(controller.signal.aborted, true);
    assert.equal(cancellations.dropped, 1, 'the broadcast could not be sent and is counted');
  } finally {
    await cancellations.close();
  }
});
