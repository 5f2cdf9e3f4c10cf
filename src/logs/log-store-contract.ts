/**
 * The behaviour every LogStore adapter must show (files today, PostgreSQL chunk rows perhaps
 * later). An adapter's test calls `describeLogStoreContract` with a factory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogStore } from '../engine/ports.js';

export interface LogStoreFixture {
  store: LogStore;
  cleanup(): Promise<void>;
}

async function withStore(make: () => Promise<LogStoreFixture>, body: (store: LogStore) => Promise<void>) {
  const fixture = await make();
  try {
    await body(fixture.store);
  } finally {
    await fixture.cleanup();
  }
}

async function readAll(store: LogStore, runId: number, stepId: number | null): Promise<string> {
  return (await store.read({ runId, stepId, offset: 0 })).data.toString('utf8');
}

export function describeLogStoreContract(name: string, make: () => Promise<LogStoreFixture>): void {
  test(`${name}: a step's bytes read back exactly, binary included`, () =>
    withStore(make, async (store) => {
      const w = store.openStep({ runId: 1, stepId: 10, stepName: 'build', parallel: false });
      const binary = Buffer.from([0, 255, 254, 10, 128]);
      w.write(Buffer.from('hello '));
      w.write(binary);
      w.write(Buffer.from('world\n'));
      await w.close();
      const { data, nextOffset } = await store.read({ runId: 1, stepId: 10, offset: 0 });
      assert.deepEqual(data, Buffer.concat([Buffer.from('hello '), binary, Buffer.from('world\n')]));
      assert.equal(nextOffset, data.length);
      assert.equal(await store.size({ runId: 1, stepId: 10 }), data.length);
    }));

  test(`${name}: reading from an offset returns only later bytes and the next offset, honouring limit`, () =>
    withStore(make, async (store) => {
      const w = store.openStep({ runId: 2, stepId: 1, stepName: 's', parallel: false });
      w.write(Buffer.from('0123456789\n'));
      await w.close();
      assert.deepEqual(await store.read({ runId: 2, stepId: 1, offset: 4, limit: 3 }), { data: Buffer.from('456'), nextOffset: 7 });
      const end = await store.read({ runId: 2, stepId: 1, offset: 11 });
      assert.equal(end.data.length, 0);
      assert.equal(end.nextOffset, 11);
    }));

  test(`${name}: a follower sees output of a step that is still writing`, () =>
    withStore(make, async (store) => {
      const w = store.openStep({ runId: 3, stepId: 1, stepName: 's', parallel: false });
      w.write(Buffer.from('line one\n'));
      const first = await store.read({ runId: 3, stepId: 1, offset: 0 });
      assert.equal(first.data.toString(), 'line one\n');
      w.write(Buffer.from('line two\n'));
      const next = await store.read({ runId: 3, stepId: 1, offset: first.nextOffset });
      assert.equal(next.data.toString(), 'line two\n');
      await w.close();
    }));

  test(`${name}: the run log holds every step, and steps of other runs stay apart`, () =>
    withStore(make, async (store) => {
      const a = store.openStep({ runId: 4, stepId: 1, stepName: 'first', parallel: false });
      a.write(Buffer.from('from first\n'));
      await a.close();
      const b = store.openStep({ runId: 4, stepId: 2, stepName: 'second', parallel: false });
      b.write(Buffer.from('from second\n'));
      await b.close();
      const other = store.openStep({ runId: 5, stepId: 3, stepName: 'x', parallel: false });
      other.write(Buffer.from('other run\n'));
      await other.close();
      const run = await readAll(store, 4, null);
      assert.ok(run.indexOf('from first') < run.indexOf('from second'));
      assert.ok(!run.includes('other run'));
      assert.equal(await readAll(store, 4, 2), 'from second\n');
    }));

  test(`${name}: a step reopened after its end appends to its log; in the run log its lines are prefixed, under no new header`, () =>
    withStore(make, async (store) => {
      const a = store.openStep({ runId: 7, stepId: 1, stepName: 'first', parallel: false });
      a.write(Buffer.from('from first\n'));
      await a.close();
      const b = store.openStep({ runId: 7, stepId: 2, stepName: 'second', parallel: false });
      b.write(Buffer.from('from second\n'));
      const late = store.openStep({ runId: 7, stepId: 1, stepName: 'first', parallel: false, reopened: true });
      late.write(Buffer.from('late line\n'));
      await late.close();
      b.write(Buffer.from('second again\n'));
      await b.close();
      assert.equal(await readAll(store, 7, 1), 'from first\nlate line\n');
      assert.equal(await readAll(store, 7, null), '==> first\nfrom first\n==> second\nfrom second\n[first] late line\nsecond again\n');
    }));

  test(`${name}: unknown runs and steps read as empty`, () =>
    withStore(make, async (store) => {
      assert.deepEqual(await store.read({ runId: 999, stepId: 1, offset: 0 }), { data: Buffer.alloc(0), nextOffset: 0 });
      assert.equal(await store.size({ runId: 999, stepId: null }), 0);
    }));

  test(`${name}: removeRun deletes every log of the run`, () =>
    withStore(make, async (store) => {
      const w = store.openStep({ runId: 6, stepId: 1, stepName: 's', parallel: false });
      w.write(Buffer.from('x\n'));
      await w.close();
      await store.removeRun(6);
      assert.equal(await store.size({ runId: 6, stepId: 1 }), 0);
      assert.equal(await store.size({ runId: 6, stepId: null }), 0);
    }));
}
