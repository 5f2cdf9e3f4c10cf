/**
 * The Redis bus passes the EventBus contract with publisher and subscriber in two separate bus
 * instances (two processes' worth of connections); plus what only a networked bus can suffer:
 * Redis going away (publish drops and counts, never throws) and coming back (delivery resumes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventBusContract, log, status } from './event-bus-contract.js';
import { RedisEventBus } from './redis-event-bus.js';
import type { RunEvent } from './event-bus.js';
import { connectTestRedis, startPrivateRedis } from '../../test/support/redis.js';
import { waitFor } from '../../test/support/wait.js';

eventBusContract('Redis pub/sub, two instances', async () => {
  const redis = await connectTestRedis();
  if (!redis) return null;
  const publisher = new RedisEventBus({ redisUrl: redis.url, prefix: redis.prefix });
  const subscriber = new RedisEventBus({ redisUrl: redis.url, prefix: redis.prefix });
  return {
    publisher,
    subscriber,
    ready: async () => {
      await subscriber.ready();
      await waitFor(async () => (await ping(publisher)) === true, 5000, 'publisher connected');
    },
    close: async () => {
      await Promise.all([publisher.close(), subscriber.close()]);
      await redis.cleanup();
    },
  };
});

/** Whether the publisher is connected (a publish before it is would be dropped). */
const ping = async (bus: RedisEventBus) => bus.connected;

test('Redis bus: while Redis is down publish drops and counts; delivery resumes after it restarts', { timeout: 60000 }, async () => {
  const redis = await startPrivateRedis();
  const a = new RedisEventBus({ redisUrl: redis.url });
  const b = new RedisEventBus({ redisUrl: redis.url });
  try {
    const got: RunEvent[] = [];
    b.subscribeRun(7, (e) => got.push(e));
    await b.ready();
    await waitFor(async () => ping(a), 5000, 'publisher connected');
    a.publish(status(7));
    await waitFor(async () => got.length === 1, 5000, 'delivery before the outage');

    await redis.kill();
    await waitFor(async () => !(await ping(a)), 5000, 'publisher sees the outage');
    assert.doesNotThrow(() => a.publish(log(7, 1)));
    assert.equal(a.dropped, 1);

    await redis.start();
    await waitFor(async () => ping(a), 15000, 'publisher reconnected');
    // The subscriber resubscribes by itself; keep publishing until it is back.
    await waitFor(
      async () => {
        a.publish(log(7, 2));
        await new Promise((r) => setTimeout(r, 100));
        return got.some((e) => e.type === 'log' && e.offset === 2);
      },
      15000,
      'delivery after the restart',
    );
  } finally {
    await Promise.allSettled([a.close(), b.close()]);
    await redis.kill();
  }
});
