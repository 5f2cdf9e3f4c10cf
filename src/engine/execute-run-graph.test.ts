/**
 * The engine's step graph with real processes: order from `needs`, the parallel limit, skips that
 * spread to dependents, `when.status` failure/always, cancel mid-graph, and a step's own `env`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeEngineHarness, makeSpec, runWith, shell, RecordingReporter, type ReporterEvent } from '../../test/support/engine-harness.js';
import type { RunSpec } from './ports.js';
import { waitFor } from '../../test/support/wait.js';

type Window = { start: number; end: number };

/** Each step's first start and its end, by name, from the reporter's timestamps. */
function windows(spec: RunSpec, events: ReporterEvent[]): Record<string, Window> {
  const out: Record<string, Window> = {};
  for (const step of spec.steps) {
    const start = events.find((e) => e.kind === 'stepStarted' && e.stepId === step.stepId);
    const end = events.find((e) => e.kind === 'stepFinished' && e.stepId === step.stepId);
    if (start && end) out[step.name] = { start: start.at.getTime(), end: end.at.getTime() };
  }
  return out;
}

const byName = (spec: RunSpec, reporter: RecordingReporter) =>
  Object.fromEntries(spec.steps.map((s) => [s.name, reporter.finalStatuses()[s.stepId] ?? 'never reported']));

test('needs: a step starts once what it needs succeeded, independent branches overlap, a join waits for both', async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([
      shell('join', 'test -f slow.done && test -f fast.done', { needs: ['slow', 'fast'] }),
      shell('slow', 'sleep 0.6; touch slow.done', { needs: ['root'] }),
      shell('fast', 'sleep 0.2; touch fast.done', { needs: ['root'] }),
      shell('root', 'true', { needs: [] }),
      shell('after-fast', 'test -f fast.done && test ! -f slow.done', { needs: ['fast'] }),
    ]);
    const { outcome, reporter } = await runWith(h, spec);
    assert.deepEqual(outcome, { status: 'success' });
    const w = windows(spec, reporter.events);
    assert.ok(w.slow!.start >= w.root!.end && w.fast!.start >= w.root!.end);
    assert.ok(w.fast!.start < w.slow!.end && w.slow!.start < w.fast!.end, 'slow and fast overlap');
    // after-fast did not wait for slow, which was still running when it started.
    assert.ok(w['after-fast']!.start >= w.fast!.end && w['after-fast']!.start < w.slow!.end);
    assert.ok(w.join!.start >= w.slow!.end && w.join!.start >= w.fast!.end);
  } finally {
    h.cleanup();
  }
});

test('the parallel limit: never more steps at once than maxParallelSteps, ties started in definition order', async () => {
  const h = makeEngineHarness({ maxParallelSteps: 2 });
  try {
    const spec = makeSpec(['a', 'b', 'c', 'd', 'e'].map((n) => shell(n, 'sleep 0.3', { needs: [] })));
    const { outcome, reporter } = await runWith(h, spec);
    assert.equal(outcome.status, 'success');
    let running = 0;
    let most = 0;
    const order: string[] = [];
    for (const e of reporter.events) {
      if (e.kind === 'stepStarted') {
        running++;
        order.push(spec.steps.find((s) => s.stepId === e.stepId)!.name);
      }
      if (e.kind === 'stepFinished') running--;
      most = Math.max(most, running);
    }
    assert.equal(most, 2);
    assert.deepEqual(order, ['a', 'b', 'c', 'd', 'e']);
  } finally {
    h.cleanup();
  }
});

test('a failed need skips its dependents and theirs; unrelated branches still run; the run is failed', async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([
      shell('bad', 'exit 3', { needs: [] }),
      shell('child', 'touch child', { needs: ['bad'] }),
      shell('grandchild', 'touch grandchild', { needs: ['child'] }),
      shell('other', 'sleep 0.2; touch other', { needs: [] }),
      shell('after-other', 'touch after-other', { needs: ['other'] }),
    ]);
    const { outcome, reporter } = await runWith(h, spec);
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.reason ?? '', /step "bad" failed/);
    assert.deepEqual(byName(spec, reporter), { bad: 'failed', child: 'skipped', grandchild: 'skipped', other: 'success', 'after-other': 'success' });
    const ws = (reporter.events[0] as { workspace: string }).workspace;
    assert.equal(existsSync(join(ws, 'child')), false);
    assert.equal(existsSync(join(ws, 'after-other')), true);
  } finally {
    h.cleanup();
  }
});

test('continue_on_error keeps its meaning in a graph: its dependents run and the run can succeed', async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([shell('flaky', 'exit 1', { needs: [], continue_on_error: true }), shell('next', 'true', { needs: ['flaky'] })]);
    const { outcome, reporter } = await runWith(h, spec);
    assert.equal(outcome.status, 'success');
    assert.deepEqual(byName(spec, reporter), { flaky: 'failed', next: 'success' });
  } finally {
    h.cleanup();
  }
});

test('when.status failure runs only after a failure before it; always runs either way; the run stays failed', async () => {
  const h = makeEngineHarness();
  try {
    const failing = makeSpec([
      shell('build', 'exit 1'),
      shell('test', 'true'),
      shell('notify-failure', 'echo "notified"', { when: { status: 'failure' } }),
      shell('cleanup', 'echo "cleaned"', { when: { status: 'always' } }),
      shell('deploy', 'true'),
    ]);
    const a = await runWith(h, failing);
    assert.equal(a.outcome.status, 'failed');
    assert.match(a.outcome.reason ?? '', /step "build" failed/);
    assert.deepEqual(byName(failing, a.reporter), { build: 'failed', test: 'skipped', 'notify-failure': 'success', cleanup: 'success', deploy: 'skipped' });
    assert.equal(await a.stepLog(2), 'notified\n');

    const passing = makeSpec([
      shell('build', 'true'),
      shell('notify-failure', 'echo "notified"', { when: { status: 'failure' } }),
      shell('cleanup', 'true', { when: { status: 'always' } }),
    ]);
    const b = await runWith(h, passing);
    assert.equal(b.outcome.status, 'success');
    assert.deepEqual(byName(passing, b.reporter), { build: 'success', 'notify-failure': 'skipped', cleanup: 'success' });
  } finally {
    h.cleanup();
  }
});

test('when.status failure looks through skipped steps to the failure that caused them, not at other branches', async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([
      shell('a', 'exit 1', { needs: [] }),
      shell('b', 'true', { needs: ['a'] }),
      shell('on-a-failure', 'true', { needs: ['b'], when: { status: 'failure' } }),
      shell('c', 'sleep 0.3', { needs: [] }),
      shell('on-c-failure', 'true', { needs: ['c'], when: { status: 'failure' } }),
    ]);
    const { outcome, reporter } = await runWith(h, spec);
    assert.equal(outcome.status, 'failed');
    assert.deepEqual(byName(spec, reporter), { a: 'failed', b: 'skipped', 'on-a-failure': 'success', c: 'success', 'on-c-failure': 'skipped' });
  } finally {
    h.cleanup();
  }
});

test('cancel mid-graph: running steps are killed, steps not started end cancelled, even `always` ones', async () => {
  const h = makeEngineHarness({ cancelGraceMs: 300 });
  try {
    const controller = new AbortController();
    const reporter = new RecordingReporter();
    const spec = makeSpec([
      shell('first', 'true', { needs: [] }),
      shell('long-a', 'touch a.started; sleep 60', { needs: ['first'] }),
      shell('long-b', 'touch b.started; sleep 60', { needs: ['first'] }),
      shell('after', 'true', { needs: ['long-a'] }),
      shell('cleanup', 'touch cleanup.ran', { needs: ['long-b'], when: { status: 'always' } }),
    ]);
    const running = runWith(h, spec, { signal: controller.signal, reporter });
    const ws = () => (reporter.events[0] as { workspace?: string } | undefined)?.workspace;
    await waitFor(async () => !!ws() && existsSync(join(ws()!, 'a.started')) && existsSync(join(ws()!, 'b.started')), 5000, 'both long steps');
    controller.abort({ kind: 'cancel' });
    const { outcome } = await running;
    assert.equal(outcome.status, 'cancelled');
    assert.deepEqual(byName(spec, reporter), { first: 'success', 'long-a': 'cancelled', 'long-b': 'cancelled', after: 'cancelled', cleanup: 'cancelled' });
    assert.equal(existsSync(join(ws()!, 'cleanup.ran')), false);
  } finally {
    h.cleanup();
  }
});

test('a plan that cannot finish (a cycle) runs no step: every step skipped, run error', async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([shell('a', 'touch ran', { needs: ['b'] }), shell('b', 'touch ran', { needs: ['a'] })]);
    const { outcome, reporter } = await runWith(h, spec);
    assert.equal(outcome.status, 'error');
    assert.match(outcome.reason ?? '', /cannot be planned: steps wait for each other/);
    assert.deepEqual(byName(spec, reporter), { a: 'skipped', b: 'skipped' });
    assert.equal(reporter.events.filter((e) => e.kind === 'stepStarted').length, 0);
  } finally {
    h.cleanup();
  }
});

test("a step's env reaches its process over the run's variables, never over ANSFLOW_*; a refused name runs nothing", async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([shell('cell', 'echo "$NODE $OS $ANSFLOW_STEP_NAME $TOKEN"', { env: { NODE: '22', OS: 'debian', TOKEN: 'from-step' } })], {
      variables: { NODE: { value: '18', secret: false }, TOKEN: { value: 'hunter22', secret: true } },
    });
    const { outcome, stepLog } = await runWith(h, spec);
    assert.equal(outcome.status, 'success');
    // The step's value wins over the variable; the secret variable's value stays masked wherever it appears.
    assert.equal(await stepLog(0), '22 debian cell from-step\n');

    const refused = makeSpec([shell('evil', 'touch ran', { env: { LD_PRELOAD: '/tmp/x.so' } })]);
    const r = await runWith(h, refused);
    assert.equal(r.outcome.status, 'error');
    assert.match(r.outcome.reason ?? '', /LD_/);
    const ws = (r.reporter.events[0] as { workspace: string }).workspace;
    assert.equal(existsSync(join(ws, 'ran')), false);
  } finally {
    h.cleanup();
  }
});
