/**
 * The EventBus contract every adapter passes (in-process, Redis). `make` returns two bus
 * instances: the same one twice for a single-process adapter, two separate ones (two processes'
 * worth of connections) for a distributed one — the tests publish on one and subscribe on the other.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BusEvent, EventBus, InventoryCheckEvent, LogChunkEvent, RunEvent, RunStatusEvent } from './event-bus.js';
import { waitFor } from '../../test/support/wait.js';

export interface BusPair {
  publisher: EventBus;
  subscriber: EventBus;
  /** Resolves once subscriptions made so far are in effect. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export const status = (runId: number, status: RunStatusEvent['status'] = 'running'): RunStatusEvent => ({
  type: 'run_status',
  runId,
  pipelineId: 1,
  status,
  progress: 0,
  currentStep: null,
  at: new Date().toISOString(),
});

export const log = (runId: number, offset: number): LogChunkEvent => ({ type: 'log', runId, stepId: 1, offset, text: `line ${offset}\n` });

/** A connectivity-check event: one host's answer (`host`), or the check's end (no host). */
export const inventoryCheck = (inventoryId: number, checkId: number, host: string | null = null): InventoryCheckEvent => ({
  type: 'inventory_check',
  inventoryId,
  checkId,
  status: host === null ? 'finished' : 'running',
  hostCount: 2,
  limit: null,
  results: host === null ? [] : [{ host, status: 'reachable', reason: null, facts: null, checked_at: new Date().toISOString() }],
  counts: host === null ? { reachable: 2, unreachable: 0, failed: 0 } : null,
  error: null,
  at: new Date().toISOString(),
});

export function eventBusContract(name: string, make: () => Promise<BusPair | null>): void {
  const withBuses = (title: string, body: (b: BusPair) => Promise<void>) =>
    test(title, { timeout: 30000 }, async (t) => {
      const pair = await make();
      if (!pair) return t.skip('Redis unreachable');
      try {
        await body(pair);
      } finally {
        await pair.close();
      }
    });

  describe(`EventBus contract: ${name}`, () => {
    withBuses('events of one run reach each of its subscribers, in order, and no one else', async ({ publisher, subscriber, ready }) => {
      const first: RunEvent[] = [];
      const second: RunEvent[] = [];
      const other: RunEvent[] = [];
      subscriber.subscribeRun(1, (e) => first.push(e));
      subscriber.subscribeRun(1, (e) => second.push(e));
      subscriber.subscribeRun(2, (e) => other.push(e));
      await ready();
      const sent: RunEvent[] = [status(1, 'running'), ...Array.from({ length: 50 }, (_, i) => log(1, i)), status(1, 'success')];
      for (const e of sent) publisher.publish(e);
      await waitFor(async () => first.length === sent.length && second.length === sent.length, 10000, 'all events');
      assert.deepEqual(first, sent);
      assert.deepEqual(second, sent);
      assert.deepEqual(other, []);
    });

    withBuses('the all-runs feed gets the status events of every run, never log chunks', async ({ publisher, subscriber, ready }) => {
      const feed: RunStatusEvent[] = [];
      subscriber.subscribeAll((e) => feed.push(e));
      await ready();
      publisher.publish(status(1, 'running'));
      publisher.publish(log(1, 0));
      publisher.publish(status(2, 'queued'));
      publisher.publish(log(2, 0));
      publisher.publish(status(1, 'success'));
      await waitFor(async () => feed.length === 3, 10000, 'three status events');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(
        feed.map((e) => [e.type, e.runId, e.status]),
        [
          ['run_status', 1, 'running'],
          ['run_status', 2, 'queued'],
          ['run_status', 1, 'success'],
        ],
      );
    });

    withBuses('after unsubscribing a handler receives nothing more', async ({ publisher, subscriber, ready }) => {
      const gone: RunEvent[] = [];
      const staying: RunEvent[] = [];
      const feedGone: RunEvent[] = [];
      const off = subscriber.subscribeRun(1, (e) => gone.push(e));
      subscriber.subscribeRun(1, (e) => staying.push(e));
      const offFeed = subscriber.subscribeAll((e) => feedGone.push(e));
      await ready();
      publisher.publish(log(1, 0));
      await waitFor(async () => gone.length === 1 && staying.length === 1, 10000, 'first event');
      off();
      offFeed();
      await ready();
      publisher.publish(status(1));
      publisher.publish(log(1, 1));
      await waitFor(async () => staying.length === 3, 10000, 'later events to the remaining subscriber');
      assert.equal(gone.length, 1);
      assert.equal(feedGone.length, 0);
    });

    withBuses(
      "an inventory's check events reach its subscribers, in order, and no other inventory's, no run's, not the all-runs feed",
      async ({ publisher, subscriber, ready }) => {
        const first: InventoryCheckEvent[] = [];
        const second: InventoryCheckEvent[] = [];
        const otherInventory: InventoryCheckEvent[] = [];
        const runs: RunEvent[] = [];
        const feed: RunStatusEvent[] = [];
        subscriber.subscribeInventory(1, (e) => first.push(e));
        subscriber.subscribeInventory(1, (e) => second.push(e));
        subscriber.subscribeInventory(2, (e) => otherInventory.push(e));
        // A run with the same id as the inventory: ids of runs and inventories are separate.
        subscriber.subscribeRun(1, (e) => runs.push(e));
        subscriber.subscribeAll((e) => feed.push(e));
        await ready();
        const sent = [...Array.from({ length: 30 }, (_, i) => inventoryCheck(1, 5, `host${i}`)), inventoryCheck(1, 5)];
        const mixed: BusEvent[] = [status(1), ...sent.slice(0, 10), log(1, 0), ...sent.slice(10)];
        for (const e of mixed) publisher.publish(e);
        await waitFor(async () => first.length === sent.length && second.length === sent.length && runs.length === 2, 10000, 'all events');
        await new Promise((r) => setTimeout(r, 100));
        assert.deepEqual(first, sent);
        assert.deepEqual(second, sent);
        assert.deepEqual(otherInventory, []);
        assert.deepEqual(
          runs.map((e) => e.type),
          ['run_status', 'log'],
        );
        assert.deepEqual(
          feed.map((e) => e.type),
          ['run_status'],
        );
      },
    );

    withBuses('after unsubscribing from an inventory a handler receives nothing more of it', async ({ publisher, subscriber, ready }) => {
      const gone: InventoryCheckEvent[] = [];
      const staying: InventoryCheckEvent[] = [];
      const off = subscriber.subscribeInventory(3, (e) => gone.push(e));
      subscriber.subscribeInventory(3, (e) => staying.push(e));
      await ready();
      publisher.publish(inventoryCheck(3, 1, 'web1'));
      await waitFor(async () => gone.length === 1 && staying.length === 1, 10000, 'first event');
      off();
      off();
      await ready();
      publisher.publish(inventoryCheck(3, 1, 'web2'));
      publisher.publish(inventoryCheck(3, 1));
      await waitFor(async () => staying.length === 3, 10000, 'later events to the remaining subscriber');
      assert.equal(gone.length, 1);
    });

    withBuses('a subscriber that throws does not keep events from the others', async ({ publisher, subscriber, ready }) => {
      const got: RunEvent[] = [];
      const feed: RunEvent[] = [];
      const checks: InventoryCheckEvent[] = [];
      subscriber.subscribeRun(1, () => {
        throw new Error('bad subscriber');
      });
      subscriber.subscribeInventory(1, () => {
        throw new Error('bad inventory subscriber');
      });
      subscriber.subscribeInventory(1, (e) => checks.push(e));
      subscriber.subscribeRun(1, (e) => got.push(e));
      subscriber.subscribeAll(() => {
        throw new Error('bad feed subscriber');
      });
      subscriber.subscribeAll((e) => feed.push(e));
      await ready();
      assert.doesNotThrow(() => publisher.publish(status(1)));
      publisher.publish(log(1, 0));
      assert.doesNotThrow(() => publisher.publish(inventoryCheck(1, 1, 'web1')));
      await waitFor(async () => got.length === 2 && feed.length === 1 && checks.length === 1, 10000, 'events despite the thrower');
    });
  });
}
