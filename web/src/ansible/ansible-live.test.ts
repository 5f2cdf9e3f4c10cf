import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyAnsibleEvents, emptyResults } from './ansible-live';
import type { AnsibleEvent } from '../api/types';

const at = '2026-01-01T00:00:00.000Z';
const events: AnsibleEvent[] = [
  { kind: 'play', seq: 1, at, play: { id: 'p', name: 'all' } },
  { kind: 'task', seq: 2, at, play_id: 'p', task: { id: 't1', name: 'hello', action: 'debug', handler: false } },
  { kind: 'host', seq: 3, at, task_id: 't1', host: 'web1', status: 'ok', duration_ms: 5, message: null },
  { kind: 'host', seq: 4, at, task_id: 't1', host: 'ghost', status: 'unreachable', duration_ms: 5, message: 'refused' },
  { kind: 'task', seq: 5, at, play_id: 'p', task: { id: 't2', name: 'change', action: 'command', handler: false } },
  { kind: 'host', seq: 6, at, task_id: 't2', host: 'web1', status: 'changed', duration_ms: 9, message: null },
];

test('events build the grid and a running recap; an event already in the answer counts once', () => {
  const half = applyAnsibleEvents(emptyResults(1, 2), events.slice(0, 4));
  assert.equal(half.last_seq, 4);
  const all = applyAnsibleEvents(half, events);
  assert.deepEqual(
    all.tasks.map((t) => t.name),
    ['hello', 'change'],
  );
  assert.equal(all.tasks[0]!.hosts.ghost!.status, 'unreachable');
  assert.equal(all.tasks[1]!.hosts.web1!.status, 'changed');
  assert.deepEqual(all.hosts, ['ghost', 'web1']);
  assert.equal(all.recap.web1!.ok, 1, 'seq 3 was not counted twice');
  assert.equal(all.recap.web1!.changed, 1);
  assert.equal(all.recap.ghost!.unreachable, 1);
  assert.equal(all.recap.ghost!.failed, 0);
  assert.equal(all.finished, false);
  assert.deepEqual(all.plays[0]!.tasks, ['t1', 't2']);
  assert.equal(applyAnsibleEvents(all, events), all, 'nothing new: the same object');
});

test("Ansible's recap replaces the running counts", () => {
  const running = applyAnsibleEvents(emptyResults(1, 2), events);
  const done = applyAnsibleEvents(running, [
    { kind: 'recap', seq: 7, at, host: 'ghost', counts: { ok: 0, changed: 0, failed: 0, unreachable: 1, skipped: 0, rescued: 0, ignored: 0 } },
    { kind: 'recap', seq: 8, at, host: 'web1', counts: { ok: 2, changed: 1, failed: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 } },
  ]);
  assert.equal(done.finished, true);
  assert.equal(done.recap.web1!.ok, 2);
  assert.equal(done.recap.ghost!.unreachable, 1);
});
