import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planRetry, type RetryStep } from './retry-plan.js';

const at = (m: number) => `2026-12-01T00:${String(m).padStart(2, '0')}:00.000Z`;
/** A step that ran from `started` to `finished` (minutes), or never ran (null). */
const step = (name: string, status: string, started: number | null, finished: number | null, extra: Partial<RetryStep> = {}): RetryStep => ({
  name,
  status,
  started_at: started === null ? null : at(started),
  finished_at: finished === null ? null : at(finished),
  ...extra,
});

test('stages: from the failed step, what came before is reused and the snapshot is the last of it', () => {
  const run = [step('checkout', 'success', 0, 1), step('build', 'success', 1, 2), step('test', 'failed', 2, 3), step('deploy', 'skipped', null, null)];
  assert.deepEqual(planRetry(run, 'failed'), { ok: true, reuse: ['checkout', 'build'], rerun: ['test', 'deploy'], snapshotAfter: 'build' });
  assert.deepEqual(planRetry(run, 'build'), { ok: true, reuse: ['checkout'], rerun: ['build', 'test', 'deploy'], snapshotAfter: 'checkout' });
  assert.deepEqual(planRetry(run, 'checkout'), { ok: true, reuse: [], rerun: ['checkout', 'build', 'test', 'deploy'], snapshotAfter: null });
});

test('a graph: only the failed branch runs again; parallel successes are reused', () => {
  const run = [
    step('checkout', 'success', 0, 1, { needs: [] }),
    step('lint', 'success', 1, 2, { needs: ['checkout'] }),
    step('docs', 'success', 1, 3, { needs: ['checkout'] }),
    step('unit', 'failed', 3, 5, { needs: ['checkout', 'docs'] }),
    step('package', 'skipped', null, null, { needs: ['lint', 'unit'] }),
  ];
  assert.deepEqual(planRetry(run, 'failed'), { ok: true, reuse: ['checkout', 'lint', 'docs'], rerun: ['unit', 'package'], snapshotAfter: 'docs' });
});

test('a reused step that finished after a rerun step started leaves no clean snapshot: refused, naming both', () => {
  const run = [
    step('checkout', 'success', 0, 1, { needs: [] }),
    step('lint', 'success', 1, 4, { needs: ['checkout'] }),
    step('unit', 'failed', 1, 2, { needs: ['checkout'] }),
  ];
  const plan = planRetry(run, 'failed');
  assert.equal(plan.ok, false);
  assert.match((plan as { reason: string }).reason, /Step "lint" finished after "unit" had started/);
  assert.deepEqual(planRetry(run, 'checkout'), { ok: true, reuse: [], rerun: ['checkout', 'lint', 'unit'], snapshotAfter: null });
});

test('parallel groups are stages: a stage member failing beside a running sibling cannot reuse the sibling', () => {
  const run = [
    step('a', 'success', 0, 1),
    step('b1', 'success', 1, 3, { parallel_group: 'b' }),
    step('b2', 'failed', 1, 2, { parallel_group: 'b' }),
    step('c', 'skipped', null, null),
  ];
  assert.match((planRetry(run, 'failed') as { reason: string }).reason, /Step "b1" finished after "b2" had started/);
  assert.deepEqual(planRetry(run, 'b1'), { ok: false, reason: 'Step "b2" did not succeed (failed) and would not run again; retry from it, or from "failed".' });
  assert.deepEqual(planRetry(run, 'a'), { ok: true, reuse: [], rerun: ['a', 'b1', 'b2', 'c'], snapshotAfter: null });
  // a sequential failure after the stage reuses the whole stage
  const later = [
    step('a', 'success', 0, 1),
    step('b1', 'success', 1, 3, { parallel_group: 'b' }),
    step('b2', 'success', 1, 2, { parallel_group: 'b' }),
    step('c', 'failed', 3, 4),
  ];
  assert.deepEqual(planRetry(later, 'failed'), { ok: true, reuse: ['a', 'b1', 'b2'], rerun: ['c'], snapshotAfter: 'b1' });
});

test('refused: nothing to retry, an unknown step, or a retry point after a step that did not succeed', () => {
  assert.deepEqual(planRetry([step('a', 'success', 0, 1)], 'failed'), { ok: false, reason: 'Every step of this run succeeded: there is nothing to retry.' });
  assert.match((planRetry([step('a', 'success', 0, 1)], 'zzz') as { reason: string }).reason, /no step "zzz"/);
  const run = [step('a', 'failed', 0, 1), step('b', 'skipped', null, null)];
  assert.match((planRetry(run, 'b') as { reason: string }).reason, /Step "a" did not succeed \(failed\)/);
});
