/**
 * InventoryFeed against the real in-process event bus, a latest-check read the test controls, and
 * sockets that record what they are sent: the latest check first, then the live events (those
 * published while the read was in flight held and sent after it, none lost), only the watched
 * inventory's, nothing after leaving; a slow client loses hosts' answers but never a check's end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InProcessEventBus } from '../../events/in-process-event-bus.js';
import type { InventoryCheckEvent } from '../../events/event-bus.js';
import { framesOf, recordingSocket } from '../../../test/support/recording-socket.js';
import { FeedClient } from './feed-client.js';
import { InventoryFeed, type ShownCheck } from './inventory-feed.js';

interface CheckData {
  inventory_id: number;
  check_id: number;
  status: string;
  results: Array<{ host: string }>;
  counts: unknown;
}
type Sent = { type: 'inventory_check'; data: CheckData } | { type: 'inventory_feed'; data: { inventory_id: number; latest: CheckData | null } };

const limits = { softBytes: 1024, hardBytes: 4096 };

const event = (
  inventoryId: number,
  checkId: number,
  host: string | null,
  status: InventoryCheckEvent['status'] = host ? 'running' : 'finished',
): InventoryCheckEvent => ({
  type: 'inventory_check',
  inventoryId,
  checkId,
  status,
  hostCount: 2,
  limit: null,
  results: host ? [{ host, status: 'reachable', reason: null, facts: null, checked_at: '2026-12-02T00:00:00.000Z' }] : [],
  counts: status === 'running' ? null : { reachable: 2, unreachable: 0, failed: 0 },
  error: null,
  at: '2026-12-02T00:00:00.000Z',
});

const shown: ShownCheck = {
  id: 4,
  inventory_id: 1,
  status: 'running',
  host_count: 2,
  limit: null,
  results: [{ host: 'web1', status: 'reachable', reason: null, facts: null, checked_at: '2026-12-02T00:00:00.000Z' }],
  counts: { reachable: 1, unreachable: 0, failed: 0 },
  error: null,
  finished_at: null,
};

const summary = (sent: Sent[]) =>
  sent.map((m) => {
    const check = m.type === 'inventory_feed' ? m.data.latest : m.data;
    return [m.type, check?.check_id ?? null, check?.status ?? null, check?.results.map((r) => r.host).join(',') ?? null];
  });

test('the latest check first, then live events; events during the read are held, not lost; only the watched inventory', async () => {
  const events = new InProcessEventBus();
  let answer: (c: ShownCheck | null) => void = () => undefined;
  const feed = new InventoryFeed({ events, latestCheck: () => new Promise((resolve) => (answer = resolve)) });
  const { socket, sent: recorded } = recordingSocket<Sent>();
  const sent = () => framesOf(recorded);
  const client = new FeedClient(socket, null, limits);
  const joined = feed.watch(1, client);
  // While the latest check is being read, a host answers and another inventory's check goes on.
  events.publish(event(1, 4, 'db1'));
  events.publish(event(2, 9, 'other'));
  assert.equal(sent().length, 0, 'nothing before the latest check');
  answer(shown);
  await joined;
  events.publish(event(1, 4, null));
  assert.deepEqual(summary(sent()), [
    ['inventory_feed', 4, 'running', 'web1'],
    ['inventory_check', 4, 'running', 'db1'],
    ['inventory_check', 4, 'finished', ''],
  ]);
  const [first, , end] = sent();
  assert.ok(first?.type === 'inventory_feed' && end?.type === 'inventory_check');
  assert.equal(first.data.inventory_id, 1);
  assert.deepEqual(first.data.latest?.counts, { reachable: 1, unreachable: 0, failed: 0 }, 'the latest check has its tally');
  assert.deepEqual(end.data.counts, { reachable: 2, unreachable: 0, failed: 0 });
  assert.equal(feed.size, 1);

  feed.unwatch(1, client);
  assert.equal(feed.size, 0);
  events.publish(event(1, 5, 'web1'));
  assert.equal(sent().length, 3, 'nothing after leaving');
});

test('an inventory never checked: the feed says it is in place, with no check; the next check live', async () => {
  const events = new InProcessEventBus();
  const feed = new InventoryFeed({ events, latestCheck: async () => null });
  const { socket, sent: recorded } = recordingSocket<Sent>();
  const sent = () => framesOf(recorded);
  await feed.watch(3, new FeedClient(socket, null, limits));
  events.publish(event(3, 1, null, 'running'));
  events.publish(event(3, 1, 'web1'));
  assert.deepEqual(summary(sent()), [
    ['inventory_feed', null, null, null],
    ['inventory_check', 1, 'running', ''],
    ['inventory_check', 1, 'running', 'web1'],
  ]);
});

test("a client that is behind loses hosts' answers, never the check's end; a failed read leaves the feed", async () => {
  const events = new InProcessEventBus();
  const feed = new InventoryFeed({ events, latestCheck: async () => null });
  const { fake, socket, sent: recorded } = recordingSocket<Sent>();
  const sent = () => framesOf(recorded);
  await feed.watch(1, new FeedClient(socket, null, limits));
  fake.bufferedAmount = limits.softBytes + 1;
  events.publish(event(1, 4, 'web1'));
  events.publish(event(1, 4, null));
  assert.deepEqual(summary(sent()), [
    ['inventory_feed', null, null, null],
    ['inventory_check', 4, 'finished', ''],
  ]);

  const broken = new InventoryFeed({
    events,
    latestCheck: async () => {
      throw new Error('database gone');
    },
  });
  const other = recordingSocket();
  await assert.rejects(broken.watch(1, new FeedClient(other.socket, null, limits)), /database gone/);
  assert.equal(broken.size, 0);
});
