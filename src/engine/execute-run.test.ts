import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeEngineHarness, makeSpec, runWith, shell, RecordingReporter } from '../../test/support/engine-harness.js';
import { processIsAlive } from './process-group.js';
import type { StepExecutor } from './ports.js';
import { waitFor } from '../../test/support/wait.js';

test('runs steps in order, reports them, and succeeds; runStarted carries the workspace', async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([shell('one', 'echo one > f.txt'), shell('two', 'cat f.txt; echo two')]);
    const { outcome, reporter, runLog, stepLog } = await runWith(h, spec);
    assert.deepEqual(outcome, { status: 'success' });
    const kinds = reporter.events.map((e) => `${e.kind}${'stepId' in e ? `:${e.stepId % 100}` : ''}`);
    assert.deepEqual(kinds, ['runStarted', 'stepStarted:1', 'stepFinished:1', 'stepStarted:2', 'stepFinished:2']);
    const started = reporter.events[0] as { workspace: string };
    assert.ok(existsSync(join(started.workspace, 'f.txt')));
    assert.equal(await stepLog(1), 'one\ntwo\n');
    assert.equal(await runLog(), '==> two\none\ntwo\n');
  } finally {
    h.cleanup();
  }
});

test('the step environment is clean: no server variables, run variables, ANSFLOW_* context winning', async () => {
  const h = makeEngineHarness();
  process.env.ANSFLOW_SECRET_KEY_TEST_LEAK = 'server-secret';
  try {
    const spec = makeSpec([shell('env', 'env | sort')], {
      variables: { GREETING: { value: 'hi', secret: false } },
      branch: 'feature/x',
      commit: 'abc1234',
    });
    const { outcome, stepLog } = await runWith(h, spec);
    assert.equal(outcome.status, 'success');
    const log = await stepLog(0);
    assert.ok(!log.includes('server-secret'));
    assert.match(log, /^GREETING=hi$/m);
    assert.match(log, /^CI=true$/m);
    assert.match(log, /^TERM=dumb$/m);
    assert.match(log, /^LANG=C\.UTF-8$/m);
    assert.match(log, new RegExp(`^ANSFLOW_RUN_ID=${spec.runId}$`, 'm'));
    assert.match(log, /^ANSFLOW_BRANCH=feature\/x$/m);
    assert.match(log, /^ANSFLOW_COMMIT=abc1234$/m);
    assert.match(log, /^ANSFLOW_STEP_NAME=env$/m);
    assert.match(log, /^ANSFLOW_PIPELINE_NAME=demo$/m);
    const home = /^HOME=(.*)$/m.exec(log)?.[1];
    assert.ok(home && home !== process.env.HOME && home.endsWith(`run-${spec.runId}.home`));
  } finally {
    delete process.env.ANSFLOW_SECRET_KEY_TEST_LEAK;
    h.cleanup();
  }
});

test('a failed step blocks the run: later steps are skipped, run failed with the exit code', async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([shell('ok', 'true'), shell('bad', 'echo boom; exit 4'), shell('never', 'echo never')]);
    const { outcome, reporter, stepLog } = await runWith(h, spec);
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.reason ?? '', /bad.*exit code 4/);
    assert.deepEqual(Object.values(reporter.finalStatuses()), ['success', 'failed', 'skipped']);
    assert.equal(reporter.finished(spec.steps[1]!.stepId)?.exitCode, 4);
    assert.equal(await stepLog(2), '');
  } finally {
    h.cleanup();
  }
});

test('continue_on_error: a failing step does not block, the run can still succeed', async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([shell('flaky', 'exit 1', { continue_on_error: true }), shell('after', 'echo ran')]);
    const { outcome, reporter } = await runWith(h, spec);
    assert.equal(outcome.status, 'success');
    assert.deepEqual(Object.values(reporter.finalStatuses()), ['failed', 'success']);
  } finally {
    h.cleanup();
  }
});

test('retries re-run a failed attempt, report each attempt, and separate attempts in the log', async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([shell('retry', 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; echo "try $n"; [ $n -ge 3 ]', { retries: 3 })]);
    const { outcome, reporter, stepLog } = await runWith(h, spec);
    assert.equal(outcome.status, 'success');
    const starts = reporter.events.filter((e) => e.kind === 'stepStarted').map((e) => (e as { attempt: number }).attempt);
    assert.deepEqual(starts, [1, 2, 3]);
    assert.equal(reporter.finished(spec.steps[0]!.stepId)?.attempts, 3);
    const log = await stepLog(0);
    assert.match(log, /try 1\n.*retrying\n──── attempt 2 of 4 ────\ntry 2\n/s);
  } finally {
    h.cleanup();
  }
});

test('retries exhausted: the step fails after 1 + retries attempts', async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([shell('always', 'exit 2', { retries: 2 })]);
    const { outcome, reporter } = await runWith(h, spec);
    assert.equal(outcome.status, 'failed');
    assert.equal(reporter.finished(spec.steps[0]!.stepId)?.attempts, 3);
  } finally {
    h.cleanup();
  }
});

test('timeout_seconds ends the step `timeout`, kills its process tree, and the run is `timeout`', async () => {
  const h = makeEngineHarness({ cancelGraceMs: 200 });
  try {
    const spec = makeSpec([shell('slow', `(trap '' TERM; sleep 60) & echo $! > bg.pid; sleep 60`, { timeout_seconds: 1 }), shell('later', 'true')]);
    const started = Date.now();
    const { outcome, reporter } = await runWith(h, spec);
    // A liveness bound, not a timing target: without the timeout the step would run for 60 s.
    assert.ok(Date.now() - started < 30_000);
    assert.equal(outcome.status, 'timeout');
    assert.deepEqual(Object.values(reporter.finalStatuses()), ['timeout', 'skipped']);
    const ws = (reporter.events[0] as { workspace: string }).workspace;
    assert.equal(processIsAlive(Number(readFileSync(join(ws, 'bg.pid'), 'utf8'))), false);
  } finally {
    h.cleanup();
  }
});

test('steps of one parallel group really run at the same time, and the run waits for all', async () => {
  const h = makeEngineHarness();
  try {
    const cmd = (n: string) => `date +%s%N > ${n}.start; sleep 0.5; date +%s%N > ${n}.end`;
    const spec = makeSpec([shell('a', cmd('a'), { parallel_group: 'g' }), shell('b', cmd('b'), { parallel_group: 'g' }), shell('after', 'ls a.end b.end')]);
    const { outcome, reporter } = await runWith(h, spec);
    assert.equal(outcome.status, 'success');
    const ws = (reporter.events[0] as { workspace: string }).workspace;
    const t = (f: string) => Number(readFileSync(join(ws, f), 'utf8')) / 1e6;
    // The steps' own clocks prove they ran at the same time, whatever the machine's load; `after`
    // listing both end files proves the run waited for both.
    const overlap = Math.min(t('a.end'), t('b.end')) - Math.max(t('a.start'), t('b.start'));
    assert.ok(overlap > 300, `overlap ${overlap} ms`);
  } finally {
    h.cleanup();
  }
});

test('a failure inside a parallel stage lets its siblings finish, then skips later steps', async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([
      shell('fails', 'exit 1', { parallel_group: 'g' }),
      shell('slow-ok', 'sleep 0.3; echo finished', { parallel_group: 'g' }),
      shell('later', 'true'),
    ]);
    const { outcome, reporter, runLog } = await runWith(h, spec);
    assert.equal(outcome.status, 'failed');
    assert.deepEqual(Object.values(reporter.finalStatuses()), ['failed', 'success', 'skipped']);
    assert.match(await runLog(), /^\[slow-ok\] finished$/m);
  } finally {
    h.cleanup();
  }
});

test('cancel kills the running step and a forked SIGTERM-ignoring child; pending steps end cancelled', async () => {
  const h = makeEngineHarness({ cancelGraceMs: 300 });
  try {
    const controller = new AbortController();
    const reporter = new RecordingReporter();
    const spec = makeSpec([shell('running', `trap '' TERM; (trap '' TERM; sleep 60) & echo "$$ $!" > pids; sleep 60`), shell('pending', 'true')]);
    const running = runWith(h, spec, { signal: controller.signal, reporter });
    await waitFor(
      async () => {
        const ws = (reporter.events[0] as { workspace?: string } | undefined)?.workspace;
        return !!ws && existsSync(join(ws, 'pids')) && readFileSync(join(ws, 'pids'), 'utf8').trim().split(' ').length === 2;
      },
      5000,
      'both pids',
    );
    const ws = (reporter.events[0] as { workspace: string }).workspace;
    const pids = readFileSync(join(ws, 'pids'), 'utf8').trim().split(' ').map(Number);
    controller.abort({ kind: 'cancel' });
    const { outcome } = await running;
    assert.equal(outcome.status, 'cancelled');
    assert.deepEqual(Object.values(reporter.finalStatuses()), ['cancelled', 'cancelled']);
    for (const pid of pids) assert.equal(processIsAlive(pid), false, `pid ${pid} survived the cancel`);
  } finally {
    h.cleanup();
  }
});

test('shutdown ends the run `error` "interrupted by server shutdown"', async () => {
  const h = makeEngineHarness();
  try {
    const controller = new AbortController();
    const reporter = new RecordingReporter();
    const spec = makeSpec([shell('s', 'sleep 30'), shell('p', 'true')]);
    const running = runWith(h, spec, { signal: controller.signal, reporter });
    await waitFor(async () => reporter.events.some((e) => e.kind === 'stepStarted'), 5000, 'a step to start');
    setTimeout(() => controller.abort({ kind: 'shutdown' }), 50);
    const { outcome } = await running;
    assert.deepEqual(outcome, { status: 'error', reason: 'interrupted by server shutdown' });
    assert.deepEqual(Object.values(reporter.finalStatuses()), ['cancelled', 'cancelled']);
  } finally {
    h.cleanup();
  }
});

test('an unknown step type is a platform fault: step failed, run error', async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([{ name: 'j', type: 'jenkins_job', config: {} }, shell('later', 'true')]);
    const { outcome, reporter } = await runWith(h, spec);
    assert.equal(outcome.status, 'error');
    assert.match(outcome.reason ?? '', /no executor for step type "jenkins_job"/);
    assert.deepEqual(Object.values(reporter.finalStatuses()), ['failed', 'skipped']);
  } finally {
    h.cleanup();
  }
});

test('an executor that throws is a platform fault, and its message is masked', async () => {
  const h = makeEngineHarness();
  try {
    const throwing: StepExecutor = {
      type: 'shell_command',
      execute: async () => {
        throw new Error('connection refused with password hunter22');
      },
    };
    const spec = makeSpec([shell('x', 'true')], { variables: { PW: { value: 'hunter22', secret: true } } });
    const { outcome, reporter, stepLog } = await runWith(h, spec, { executors: [throwing] });
    assert.equal(outcome.status, 'error');
    assert.ok(!(outcome.reason ?? '').includes('hunter22'));
    assert.match(reporter.finished(spec.steps[0]!.stepId)?.message ?? '', /password \*\*\*\*\*\*/);
    assert.ok(!(await stepLog(0)).includes('hunter22'));
  } finally {
    h.cleanup();
  }
});

test('a workspace that cannot be created ends the run `error` without running any step', async () => {
  const h = makeEngineHarness();
  try {
    writeFileSync(join(h.root, 'not-a-dir'), '');
    const spec = makeSpec([shell('x', 'true')]);
    const { outcome, reporter } = await runWith({ ...h, options: { ...h.options, workspaceRoot: join(h.root, 'not-a-dir') } }, spec);
    assert.equal(outcome.status, 'error');
    assert.match(outcome.reason ?? '', /workspace could not be created/);
    assert.deepEqual(Object.values(reporter.finalStatuses()), ['skipped']);
  } finally {
    h.cleanup();
  }
});

test('a run variable with a refused name (LD_PRELOAD) never reaches a process', async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([shell('x', 'touch ran')], { variables: { LD_PRELOAD: { value: '/tmp/evil.so', secret: false } } });
    const { outcome, reporter } = await runWith(h, spec);
    assert.equal(outcome.status, 'error');
    const ws = (reporter.events[0] as { workspace: string }).workspace;
    assert.equal(existsSync(join(ws, 'ran')), false);
  } finally {
    h.cleanup();
  }
});

test('secrets are masked in step and run logs: whole, split across writes, and multi-line', async () => {
  const h = makeEngineHarness();
  try {
    const key = 'line-one-AAA\nline-two-BBB';
    const spec = makeSpec(
      [shell('leak', `echo "whole: $TOKEN"; printf 'split: sec'; sleep 0.2; printf 'ret\\n'; printf '%s\\n' "$KEY"; echo "line-two-BBB alone"`)],
      { variables: { TOKEN: { value: 'tok-123456', secret: true }, SPLIT: { value: 'secret', secret: true }, KEY: { value: key, secret: true } } },
    );
    const { outcome, stepLog, runLog } = await runWith(h, spec);
    assert.equal(outcome.status, 'success');
    for (const log of [await stepLog(0), await runLog()]) {
      assert.ok(!/tok-123456|secret|line-one-AAA|line-two-BBB/.test(log), log);
      assert.match(log, /whole: \*\*\*\*\*\*/);
      assert.match(log, /split: \*\*\*\*\*\*/);
      assert.match(log, /\*\*\*\*\*\* alone/);
    }
  } finally {
    h.cleanup();
  }
});

test('working_directory cannot leave the workspace, also not through a symlink', async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([
      shell('link', 'ln -s /etc escape; mkdir -p sub'),
      shell('dotdot', 'touch pwned-dotdot', { continue_on_error: true }, { working_directory: '../../etc' }),
      shell('symlink', 'touch pwned-symlink', { continue_on_error: true }, { working_directory: 'escape' }),
      shell('inside', 'pwd', {}, { working_directory: 'sub' }),
    ]);
    const { outcome, reporter, stepLog } = await runWith(h, spec);
    assert.equal(outcome.status, 'success');
    assert.deepEqual(Object.values(reporter.finalStatuses()), ['success', 'failed', 'failed', 'success']);
    assert.match(reporter.finished(spec.steps[1]!.stepId)?.message ?? '', /leave the workspace/);
    assert.match(reporter.finished(spec.steps[2]!.stepId)?.message ?? '', /symlink/);
    assert.ok(!existsSync('/etc/pwned-symlink') && !existsSync('/etc/pwned-dotdot'));
    assert.match(await stepLog(3), /\/sub\n$/);
  } finally {
    h.cleanup();
  }
});

test('a 50 MB single line is cut to maxLineBytes and binary output survives byte for byte', async () => {
  const h = makeEngineHarness({ maxLineBytes: 1024 });
  try {
    const spec = makeSpec([shell('big', `head -c 52428800 /dev/zero | tr '\\0' 'a'; echo; printf '\\000\\377\\376\\200end\\n'`)]);
    const before = process.memoryUsage().rss;
    const { outcome, stepLog } = await runWith(h, spec);
    const grown = process.memoryUsage().rss - before;
    assert.equal(outcome.status, 'success');
    const raw = (await h.logs.read({ runId: spec.runId, stepId: spec.steps[0]!.stepId, offset: 0 })).data;
    assert.equal(raw.indexOf('a'.repeat(1024) + ' … [line truncated, ' + (52428800 - 1024) + ' bytes]\n'), 0);
    assert.ok(raw.subarray(-8).equals(Buffer.from([0, 255, 254, 128, 0x65, 0x6e, 0x64, 0x0a])));
    assert.ok(grown < 60 * 1024 * 1024, `rss grew by ${grown}`);
    assert.ok((await stepLog(0)).length < 3000);
  } finally {
    h.cleanup();
  }
});

test('two runs never share a workspace', async () => {
  const h = makeEngineHarness();
  try {
    const a = await runWith(h, makeSpec([shell('a', 'touch mine')]));
    const b = await runWith(h, makeSpec([shell('b', 'ls')]));
    const wa = (a.reporter.events[0] as { workspace: string }).workspace;
    const wb = (b.reporter.events[0] as { workspace: string }).workspace;
    assert.notEqual(wa, wb);
    assert.equal(await b.stepLog(0), '');
  } finally {
    h.cleanup();
  }
});

test('a step env entry with a refused name fails the step; allowed names reach the process', async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([
      shell('bad', 'touch ran-bad', { continue_on_error: true }, { env: { BASH_ENV: '/tmp/x' } }),
      shell('good', 'echo "$FOO"', {}, { env: { FOO: 'bar' } }),
    ]);
    const { reporter, stepLog } = await runWith(h, spec);
    assert.deepEqual(Object.values(reporter.finalStatuses()), ['failed', 'success']);
    assert.match(reporter.finished(spec.steps[0]!.stepId)?.message ?? '', /BASH_ENV/);
    assert.equal(await stepLog(1), 'bar\n');
  } finally {
    h.cleanup();
  }
});

test('shell: sh runs the command with sh -e, stopping at the first failing command', async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([shell('sh', 'echo "$0"; false; echo unreachable', {}, { shell: 'sh' })]);
    const { outcome, stepLog } = await runWith(h, spec);
    assert.equal(outcome.status, 'failed');
    assert.equal(await stepLog(0), 'sh\nstep failed: exit code 1\n');
  } finally {
    h.cleanup();
  }
});

test('a run cancelled before it starts settles every step cancelled and runs nothing', async () => {
  const h = makeEngineHarness();
  try {
    const controller = new AbortController();
    controller.abort({ kind: 'cancel' });
    const spec = makeSpec([shell('a', 'true'), shell('b', 'true')]);
    const { outcome, reporter } = await runWith(h, spec, { signal: controller.signal });
    assert.equal(outcome.status, 'cancelled');
    assert.deepEqual(
      reporter.events.map((e) => e.kind),
      ['stepsSettled'],
    );
  } finally {
    h.cleanup();
  }
});

test('a reporter that throws makes the run `error` instead of rejecting', async () => {
  const h = makeEngineHarness();
  try {
    const reporter = new RecordingReporter();
    reporter.stepFinished = async () => {
      throw new Error('database is down');
    };
    const spec = makeSpec([shell('a', 'true'), shell('b', 'true')]);
    const { outcome } = await runWith(h, spec, { reporter });
    assert.equal(outcome.status, 'error');
    assert.match(outcome.reason ?? '', /database is down/);
  } finally {
    h.cleanup();
  }
});
