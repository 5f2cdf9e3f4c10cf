/** The outbox's channel cache: one read per channel while fresh, a new read after `ttlMs` or `forget`, a failed read not kept. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelCache } from './channel-cache.js';
import type { NotificationChannel } from '../../store/notifications-repository.js';

function fakeRepository() {
  const reads = { channel: 0, secret: 0 };
  let enabled = true;
  let fail = false;
  let secret = 'first';
  return {
    reads,
    set: (s: { enabled?: boolean; fail?: boolean; secret?: string }) => {
      enabled = s.enabled ?? enabled;
      fail = s.fail ?? fail;
      secret = s.secret ?? secret;
    },
    repository: {
      findById: async (id: number) => {
        reads.channel++;
        if (fail) throw new Error('database down');
        return { id, enabled } as NotificationChannel;
      },
      openSecret: async () => {
        reads.secret++;
        return secret;
      },
    },
  };
}

test('a channel is read once while fresh, again after ttlMs, and at once after forget', async () => {
  let now = 1000;
  const fake = fakeRepository();
  const cache = new ChannelCache(fake.repository, 500, () => now);
  assert.equal((await cache.get(7))!.secret, 'first');
  fake.set({ secret: 'second' });
  now += 499;
  assert.equal((await cache.get(7))!.secret, 'first');
  assert.deepEqual(fake.reads, { channel: 1, secret: 1 });
  now += 1;
  assert.equal((await cache.get(7))!.secret, 'second');
  fake.set({ secret: 'third' });
  cache.forget(7);
  assert.equal((await cache.get(7))!.secret, 'third');
  assert.deepEqual(fake.reads, { channel: 3, secret: 3 });
});

test('a disabled channel is kept without opening its secret; ttlMs 0 reads every time; a failed read is not kept', async () => {
  const fake = fakeRepository();
  fake.set({ enabled: false });
  const uncached = new ChannelCache(fake.repository, 0);
  assert.deepEqual(await uncached.get(1), { channel: { id: 1, enabled: false }, secret: null });
  await uncached.get(1);
  assert.deepEqual(fake.reads, { channel: 2, secret: 0 });

  const cache = new ChannelCache(fake.repository, 60_000);
  fake.set({ fail: true });
  await assert.rejects(cache.get(2), /database down/);
  fake.set({ fail: false, enabled: true });
  assert.equal((await cache.get(2))!.secret, 'first');
});
