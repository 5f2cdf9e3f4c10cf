import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SandboxLauncher } from './sandbox-launcher.js';
import { prepareSandbox } from './sandbox-settings.js';
import { waitFor } from '../../../../test/support/wait.js';

test('when the sandbox cannot be set up, a run is refused with the reason and how to opt out', async () => {
  const launcher = new SandboxLauncher({ mode: 'on', available: false, reason: 'bubblewrap is not installed' }, { workspaceRoot: '/nowhere', warm: 1 });
  launcher.warmUp();
  await assert.rejects(
    launcher.openRun({ runId: 1, readOnlyPaths: [], stepLimits: [] }),
    /steps are not run: the sandbox cannot be set up \(bubblewrap is not installed\); ANSFLOW_SANDBOX=off/,
  );
});

test('a launch outside an open run sandbox is refused, never run unisolated', async () => {
  const launcher = new SandboxLauncher({ mode: 'on', available: false, reason: 'x' }, { workspaceRoot: '/nowhere', warm: 0 });
  await assert.rejects(launcher.launch({ file: 'true', args: [], cwd: '/', env: {} }), /must start inside its run's sandbox/);
  await assert.rejects(launcher.launch({ file: 'true', args: [], cwd: '/', env: {}, scope: { runId: 7 } }), /must start inside its run's sandbox/);
});

/** A sandbox launcher with real sandboxes, or null (the test skips, and fails under CI) when they cannot be made here. */
async function realLauncher(
  t: TestContext,
  warm: number,
  refillDelayMs?: number,
): Promise<{ launcher: SandboxLauncher; workspaces: string; done: () => Promise<void> } | null> {
  const root = mkdtempSync(join(tmpdir(), 'ansflow-sandbox-launcher-test-'));
  const workspaces = join(root, 'workspaces');
  const state = await prepareSandbox({
    enabled: true,
    dataDir: join(root, 'data'),
    workspaceRoot: workspaces,
    uid: 61000,
    defaults: { memoryBytes: 512 * 1024 ** 2, processes: 200, cpus: null, fileSizeBytes: 1024 ** 3 },
    tmpBytes: 64 * 1024 ** 2,
    extraHidden: [],
  });
  if (state.mode !== 'on' || !state.available) {
    rmSync(root, { recursive: true, force: true });
    const reason = state.mode === 'on' && !state.available ? state.reason : 'sandbox off';
    if (process.env.CI === 'true') assert.fail(`the sandbox is required under CI: ${reason}`);
    t.skip(reason);
    return null;
  }
  const launcher = new SandboxLauncher(state, { workspaceRoot: workspaces, warm, ...(refillDelayMs !== undefined && { refillDelayMs }) });
  return {
    launcher,
    workspaces,
    done: async () => {
      await launcher.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The sandbox folders (one per sandbox, made when it is prepared). */
const slots = (workspaces: string) => (existsSync(workspaces) ? readdirSync(workspaces).filter((f) => f.startsWith('sandbox-')) : []);

test('a run whose steps are still being read takes its warm sandbox ahead (reserve), and openRun uses that one; another run meanwhile gets one made', async (t) => {
  const set = await realLauncher(t, 1);
  if (!set) return;
  const { launcher, workspaces } = set;
  try {
    launcher.warmUp();
    await waitFor(async () => slots(workspaces).length === 1, 20_000, 'the warm sandbox');
    const [warm] = slots(workspaces);
    launcher.reserve(1);
    const other = await launcher.openRun({ runId: 2, readOnlyPaths: [], stepLimits: [] });
    const own = await launcher.openRun({ runId: 1, readOnlyPaths: [], stepLimits: [] });
    assert.equal(own.workspace.path, join(workspaces, warm!, 'workspace'), 'run 1 got the sandbox it reserved');
    assert.notEqual(other.workspace.path, own.workspace.path);
    await Promise.all([own.close(), other.close()]);
  } finally {
    await set.done();
  }
});

test('a reserved sandbox its run does not use goes back to the pool: released, or when the run does not fit a warm sandbox', async (t) => {
  const set = await realLauncher(t, 1);
  if (!set) return;
  const { launcher, workspaces } = set;
  try {
    launcher.warmUp();
    await waitFor(async () => slots(workspaces).length === 1, 20_000, 'the warm sandbox');
    const [warm] = slots(workspaces);
    // An invalid file: the run never opens its sandbox.
    launcher.reserve(1);
    launcher.release(1);
    // A run that needs a read-only path shown gets one made for it; the reserved one stays warm.
    launcher.reserve(2);
    const special = await launcher.openRun({ runId: 2, readOnlyPaths: ['/usr/share'], stepLimits: [] });
    assert.notEqual(special.workspace.path, join(workspaces, warm!, 'workspace'));
    const next = await launcher.openRun({ runId: 3, readOnlyPaths: [], stepLimits: [] });
    assert.equal(next.workspace.path, join(workspaces, warm!, 'workspace'), 'the next run takes the sandbox given back');
    await Promise.all([special.close(), next.close()]);
  } finally {
    await set.done();
  }
});

test('the warm sandbox a run took is replaced once its first step has ended, not while that step starts and runs', async (t) => {
  // The fallback delay far away: only the step's end can start the replacement within the test.
  const set = await realLauncher(t, 1, 10 * 60_000);
  if (!set) return;
  const { launcher, workspaces } = set;
  try {
    launcher.warmUp();
    await waitFor(async () => slots(workspaces).length === 1, 20_000, 'the warm sandbox');
    const run = await launcher.openRun({ runId: 1, readOnlyPaths: [], stepLimits: [] });
    const step = await launcher.launch({
      file: 'bash',
      args: ['-c', 'echo started; while [ ! -e go ]; do sleep 0.02; done'],
      cwd: run.workspace.path,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      scope: { runId: 1 },
    });
    let output = '';
    step.output.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(async () => output.includes('started'), 20_000, 'the step to start');
    // Under the former rule (replace once the step has started) its slot folder was made by now:
    // the first thing a new sandbox does (makeSlot), a mkdir, against a round trip through the step.
    assert.equal(slots(workspaces).length, 1, 'no new sandbox while the first step runs');
    writeFileSync(join(run.workspace.path, 'go'), '');
    assert.equal((await step.exit).code, 0);
    await waitFor(async () => slots(workspaces).length === 2, 20_000, 'the replacement, once the first step has ended');
    await run.close();
  } finally {
    await set.done();
  }
});
