import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromCheck, fromMessage, mergeCheck, missedResults, tally, withLiveResults, type LiveCheck } from './check-live';
import type { InventoryCheckData, InventoryHost } from '../api/endpoints';

const result = (host: string, status: 'reachable' | 'unreachable' | 'failed' = 'reachable', checked_at = '2026-12-02T00:00:01.000Z') => ({
  host,
  status,
  reason: null,
  facts: null,
  checked_at,
});

const message = (
  check_id: number,
  status: LiveCheck['status'],
  results: ReturnType<typeof result>[],
  counts: LiveCheck['counts'] = null,
): InventoryCheckData => ({ inventory_id: 1, check_id, status, host_count: 3, limit: null, results, counts, error: null, at: '2026-12-02T00:00:02.000Z' });

test('live messages build the check host by host; a repeat changes nothing; the end brings the tally', () => {
  let check: LiveCheck | null = null;
  check = mergeCheck(check, fromMessage(message(4, 'running', [])));
  check = mergeCheck(check, fromMessage(message(4, 'running', [result('ghost', 'unreachable')])));
  check = mergeCheck(check, fromMessage(message(4, 'running', [result('web1')])));
  check = mergeCheck(check, fromMessage(message(4, 'running', [result('web1')])));
  assert.equal(check.status, 'running');
  assert.deepEqual(
    check.results.map((r) => r.host),
    ['ghost', 'web1'],
  );
  assert.deepEqual(tally(check), { reachable: 1, unreachable: 1, failed: 0 });
  check = mergeCheck(check, fromMessage(message(4, 'running', [result('gate', 'unreachable')])));
  check = mergeCheck(check, fromMessage(message(4, 'finished', [], { reachable: 1, unreachable: 2, failed: 0 })));
  assert.equal(check.status, 'finished');
  assert.equal(missedResults(check), false);
});

test('an ended check stays ended: the late 202 answer or a late running message only adds results', () => {
  let check = mergeCheck(null, fromMessage(message(4, 'finished', [result('web1')], { reachable: 1, unreachable: 0, failed: 0 })));
  check = mergeCheck(
    check,
    fromCheck({
      id: 4,
      inventory_id: 1,
      status: 'running',
      limit: null,
      host_count: 1,
      results: [],
      counts: { reachable: 0, unreachable: 0, failed: 0 },
      error: null,
      started_at: '',
      finished_at: null,
    }),
  );
  check = mergeCheck(check, fromMessage(message(4, 'running', [result('web1', 'reachable', '2026-12-02T00:00:00.000Z')])));
  assert.equal(check.status, 'finished');
  assert.deepEqual(check.counts, { reachable: 1, unreachable: 0, failed: 0 });
  assert.equal(check.results[0]!.checked_at, '2026-12-02T00:00:01.000Z', 'the later answer kept');
});

test('a newer check replaces an older one, an older one is ignored; missed answers are noticed at the end', () => {
  let check = mergeCheck(null, fromMessage(message(4, 'finished', [result('web1')], { reachable: 1, unreachable: 0, failed: 0 })));
  check = mergeCheck(check, fromMessage(message(5, 'running', [])));
  assert.equal(check.id, 5);
  assert.deepEqual(check.results, []);
  check = mergeCheck(check, fromMessage(message(4, 'running', [result('db1')])));
  assert.equal(check.id, 5);
  assert.deepEqual(check.results, []);
  check = mergeCheck(check, fromMessage(message(5, 'running', [result('web1')])));
  check = mergeCheck(check, fromMessage(message(5, 'finished', [], { reachable: 2, unreachable: 1, failed: 0 })));
  assert.equal(missedResults(check), true, 'three answered, one came');
  assert.deepEqual(tally(check), { reachable: 2, unreachable: 1, failed: 0 });
});

test("the hosts' records take a live answer only when it is newer than theirs", () => {
  const hosts: InventoryHost[] = [
    { name: 'web1', groups: [], vars: {}, check: null },
    { name: 'db1', groups: [], vars: {}, check: { status: 'reachable', reason: null, facts: null, checked_at: '2026-12-02T00:00:05.000Z' } },
    { name: 'lab1', groups: [], vars: {}, check: null },
  ];
  const check = mergeCheck(null, fromMessage(message(1, 'running', [result('web1', 'unreachable'), result('db1', 'failed')])));
  const shown = withLiveResults(hosts, check);
  assert.equal(shown[0]!.check?.status, 'unreachable');
  assert.equal(shown[1]!.check?.status, 'reachable', 'the stored answer is newer');
  assert.equal(shown[2], hosts[2]);
  assert.equal(withLiveResults(hosts, null), hosts);
});
