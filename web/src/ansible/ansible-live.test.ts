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

test('a batch keeps the identity of what it did not touch (the grid re-renders only changed rows)', () => {
  const before = applyAnsibleEvents(emptyResults(1, 2), events);
  const after = applyAnsibleEvents(before, [{ kind: 'host', seq: 7, at, task_id: 't2', host: 'ghost', status: 'unreachable', duration_ms: 1, message: null }]);
  assert.equal(after.tasks[0], before.tasks[0], 'an untouched task is the same object');
  assert.notEqual(after.tasks[1], before.tasks[1], 'the touched task is new');
  assert.equal(before.tasks[1]!.hosts.ghost, undefined, 'and the old one was not changed');
  assert.equal(after.tasks[1]!.hosts.ghost!.status, 'unreachable');
  assert.equal(after.hosts, before.hosts, 'no new host: the same host list');
  assert.equal(after.recap.web1, before.recap.web1, "an untouched host's counts are the same object");
  assert.equal(after.recap.ghost!.unreachable, 2);
  assert.equal(before.recap.ghost!.unreachable, 1, 'the old counts were not changed');
  assert.equal(after.plays, before.plays);
  const more = applyAnsibleEvents(after, [{ kind: 'host', seq: 8, at, task_id: 't2', host: 'db1', status: 'ok', duration_ms: 1, message: null }]);
  assert.deepEqual(more.hosts, ['db1', 'ghost', 'web1']);
  assert.deepEqual(after.hosts, ['ghost', 'web1']);
});
