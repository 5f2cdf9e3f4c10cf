import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SpawnerLauncher } from '../spawner-launcher.js';
import { RunSandbox } from './run-sandbox.js';
import { prepareSandbox, type SandboxSettings } from './sandbox-settings.js';
import { niceOf } from './priority.js';
import type { SpawnerProcess } from '../handed-over-process.js';
import type { SpawnerMessage, ToSpawner } from '../spawner-protocol.js';
import { waitFor } from '../../../../test/support/wait.js';

const limits = { memoryBytes: 512 * 1024 ** 2, processes: 200, cpus: null, fileSizeBytes: 1024 ** 3 };
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

/** The sandbox with cgroup limits, as the server sets it up; a test without it says so (and fails under CI). */
async function setUp(t: TestContext): Promise<{ settings: SandboxSettings; root: string } | null> {
  const root = mkdtempSync(join(tmpdir(), 'ansflow-run-sandbox-test-'));
  const state = await prepareSandbox({
    enabled: true,
    dataDir: join(root, 'data'),
    workspaceRoot: join(root, 'workspaces'),
    uid: 61000,
    defaults: limits,
    tmpBytes: 64 * 1024 ** 2,
    extraHidden: [],
  });
  const reason = state.mode === 'on' && !state.available ? state.reason : state.mode === 'on' && !state.settings.cgroups ? 'no cgroups' : null;
  if (reason !== null || state.mode !== 'on' || !state.available) {
    rmSync(root, { recursive: true, force: true });
    if (process.env.CI === 'true') assert.fail(`the sandbox with cgroup limits is required under CI: ${reason}`);
    process.stderr.write(`\n# SKIPPED run sandbox tests: ${reason}\n`);
    t.skip(reason ?? 'sandbox off');
    return null;
  }
  return { settings: state.settings, root };
}

/** Host pids whose command line is exactly `argv`. */
function pidsOf(...argv: string[]): number[] {
  const wanted = `${argv.join('\0')}\0`;
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8') === wanted;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The folder of `pid`'s cgroup of one (v1) controller, or of the unified hierarchy. */
function cgroupOf(pid: number, controller: string): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes(controller));
  if (v1) return join('/sys/fs/cgroup', controller, v1.split(':')[2]!);
  return join('/sys/fs/cgroup', lines.find((l) => l.startsWith('0::'))!.slice(3));
}

/** The command name of the spawner inside a sandbox (spawner.pl, or Node where perl is missing). */
function spawnerComm(settings: SandboxSettings): string {
  return settings.spawner.kind === 'perl' ? 'perl' : 'node';
}

function spawnerOf(sandbox: RunSandbox, settings: SandboxSettings): number {
  const [pid] = readdirSync('/proc').filter((p) => {
    try {
      return (
        /^\d+$/.test(p) &&
        readFileSync(`/proc/${p}/cmdline`, 'utf8').endsWith(`\0${sandbox.slot.pipes}\0`) &&
        readFileSync(`/proc/${p}/comm`, 'utf8').trim() === spawnerComm(settings)
      );
    } catch {
      return false;
    }
  });
  assert.ok(pid, "the sandbox's spawner runs");
  return Number(pid);
}

test('a step is born in a cgroup of its own with its limits, while the spawner already waits in the next launch’s', async (t) => {
  const set = await setUp(t);
  if (!set) return;
  const host = new SpawnerLauncher();
  const sandbox = await RunSandbox.prepare(
    set.settings,
    { workspaceRoot: join(set.root, 'workspaces'), readOnlyPaths: [], fileSizeBytes: limits.fileSizeBytes },
    { starter: host },
  );
  try {
    await sandbox.bind(1);
    const spawner = spawnerOf(sandbox, set.settings);
    const waitingBefore = cgroupOf(spawner, 'pids');
    assert.match(waitingBefore, /\/l-\d+-\d+$/, 'ready, the spawner waits in the first launch’s cgroup');

    const first = await sandbox.launch({ file: 'sleep', args: ['30.101'], cwd: sandbox.slot.workspace, env, scope: { runId: 1, limits: { processes: 50 } } });
    first.output.resume();
    const [step] = pidsOf('sleep', '30.101');
    assert.ok(step);
    const pids = cgroupOf(step, 'pids');
    assert.equal(pids, waitingBefore, 'the step was forked where the spawner waited: no move on the launch’s path');
    await waitFor(async () => (cgroupOf(spawner, 'pids') !== pids ? true : undefined), 10_000, 'the spawner to move on');
    assert.match(cgroupOf(spawner, 'pids'), /\/l-\d+-\d+$/, 'into the next launch’s cgroup');
    await waitFor(async () => (readFileSync(join(pids, 'pids.max'), 'utf8').trim() === '50' ? true : undefined), 5000, 'the step’s own process limit');
    if (existsSync('/sys/fs/cgroup/cpu/cgroup.procs'))
      assert.doesNotMatch(cgroupOf(step, 'cpu'), /\/l-\d+-\d+$/, 'no cpu cgroup of its own without a CPU limit (v1)');

    const second = await sandbox.launch({
      file: 'sleep',
      args: ['30.102'],
      cwd: sandbox.slot.workspace,
      env,
      scope: { runId: 1, limits: { cpus: 0.5, memory: '64m' } },
    });
    second.output.resume();
    const [limited] = pidsOf('sleep', '30.102');
    assert.ok(limited);
    const memory = cgroupOf(limited, 'memory');
    const v2 = !existsSync('/sys/fs/cgroup/memory/cgroup.procs');
    assert.equal(readFileSync(join(memory, v2 ? 'memory.max' : 'memory.limit_in_bytes'), 'utf8').trim(), String(64 * 1024 ** 2));
    assert.notEqual(memory, cgroupOf(step, 'memory'), 'each launch has a cgroup of its own');
    const cpu = cgroupOf(limited, 'cpu');
    assert.match(readFileSync(join(cpu, v2 ? 'cpu.max' : 'cpu.cfs_quota_us'), 'utf8').trim(), v2 ? /^50000 100000$/ : /^50000$/);

    assert.equal(await first.signalGroup('SIGKILL'), true);
    assert.equal(await second.signalGroup('SIGKILL'), true);
    await Promise.all([first.exit, second.exit]);
    await waitFor(async () => (existsSync(pids) ? undefined : true), 10_000, 'an ended launch’s cgroup to be removed');
  } finally {
    await sandbox.discard();
    await host.close();
    await set.settings.cgroups?.close();
    rmSync(set.root, { recursive: true, force: true });
  }
});

test('close() resolves once the sandbox is gone, with everything that ran in it', async (t) => {
  const set = await setUp(t);
  if (!set) return;
  const host = new SpawnerLauncher();
  const sandbox = await RunSandbox.prepare(
    set.settings,
    { workspaceRoot: join(set.root, 'workspaces'), readOnlyPaths: [], fileSizeBytes: limits.fileSizeBytes },
    { starter: host },
  );
  try {
    await sandbox.bind(2);
    const launched = await sandbox.launch({
      file: 'bash',
      args: ['-c', 'setsid sleep 300.201 & echo started; exec sleep 300.202'],
      cwd: sandbox.slot.workspace,
      env,
      scope: { runId: 2 },
    });
    // Its spawner goes with the sandbox: how it ended is unknown (runProcess makes that a platform error).
    const exit = launched.exit.then(
      () => 'exited',
      (error: Error) => error.message,
    );
    const output = new Promise<void>((resolve) => launched.output.on('data', () => resolve()));
    launched.output.resume();
    await output;
    await waitFor(async () => (pidsOf('sleep', '300.201').length === 1 && pidsOf('sleep', '300.202').length === 1 ? true : undefined), 10_000, 'both sleeps');
    const sandboxDir = dirname(sandbox.slot.workspace);
    await sandbox.close();
    // Not eventually: at once. Whatever escaped its group (setsid) ended with the PID namespace.
    assert.deepEqual(pidsOf('sleep', '300.201'), [], 'the escaped process is gone when close() resolves');
    assert.deepEqual(pidsOf('sleep', '300.202'), [], 'the step is gone when close() resolves');
    assert.ok(existsSync(sandboxDir), 'close() keeps the folders (discard() removes them)');
    assert.match(await exit, /how it ended is unknown/);
  } finally {
    await sandbox.discard();
    await host.close();
    await set.settings.cgroups?.close();
    rmSync(set.root, { recursive: true, force: true });
  }
});

/** `started`, with its first batch of pipes (which makes its Spawner ready) held back until `held` resolves. */
function readinessHeldBack(started: SpawnerProcess, held: Promise<void>): SpawnerProcess {
  const wrapped = {
    get pid() {
      return started.pid;
    },
    get connected() {
      return started.connected;
    },
    on(_event: 'message', listener: (message: SpawnerMessage, handle?: unknown) => void) {
      started.on('message', (message, handle) => (message.type === 'fifos' ? void held.then(() => listener(message, handle)) : listener(message, handle)));
      return wrapped;
    },
    once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void) {
      started.once(event, listener);
      return wrapped;
    },
    send: (message: ToSpawner, callback: (error: Error | null) => void) => started.send(message, callback),
    disconnect: () => started.disconnect(),
    kill: (signal?: NodeJS.Signals) => started.kill(signal),
    ref: () => started.ref(),
    unref: () => started.unref(),
  };
  return wrapped as unknown as SpawnerProcess;
}

test('a warm sandbox a run waits for is set back to normal priority while it still starts, not only once ready', async (t) => {
  const set = await setUp(t);
  if (!set) return;
  if (set.settings.nice === null) {
    // Not root: sandboxes never start lowered (raising a priority again needs CAP_SYS_NICE).
    t.skip('warm sandboxes start at low priority only as root');
    return;
  }
  const host = new SpawnerLauncher();
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  // Hurried at once, before the host's spawner has even reported the sandbox's pid: as when a
  // run takes a warm sandbox that has just begun to start.
  const prepared = RunSandbox.prepare(
    set.settings,
    { workspaceRoot: join(set.root, 'workspaces'), readOnlyPaths: [], fileSizeBytes: limits.fileSizeBytes },
    { starter: { startProcess: (request) => readinessHeldBack(host.startProcess(request), held) }, lowPriority: true, hurried: Promise.resolve() },
  );
  try {
    const spawner = await waitFor(
      async () =>
        readdirSync('/proc').find((p) => {
          try {
            return (
              /^\d+$/.test(p) &&
              readFileSync(`/proc/${p}/comm`, 'utf8').trim() === spawnerComm(set.settings) &&
              readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(set.root)
            );
          } catch {
            return false;
          }
        }),
      10_000,
      "the sandbox's spawner to run",
    );
    // Not ready (its pipes are held back): at nice 19 it could take longer than the start timeout.
    await waitFor(async () => (niceOf(Number(spawner)) === 0 ? true : undefined), 5000, 'the starting sandbox to be back at normal priority');
  } finally {
    release();
    await (await prepared).discard();
    await host.close();
    await set.settings.cgroups?.close();
    rmSync(set.root, { recursive: true, force: true });
  }
});

test('a warm sandbox is back at normal priority once it is ready, before any run takes it', async (t) => {
  const set = await setUp(t);
  if (!set) return;
  if (set.settings.nice === null) {
    t.skip('warm sandboxes start at low priority only as root');
    return;
  }
  const host = new SpawnerLauncher();
  // Never hurried: no run waits for it. Ready, it must not wait for one to be set back, so that
  // taking it costs no walk of its processes on the trigger → first step path.
  const sandbox = await RunSandbox.prepare(
    set.settings,
    { workspaceRoot: join(set.root, 'workspaces'), readOnlyPaths: [], fileSizeBytes: limits.fileSizeBytes },
    { starter: host, lowPriority: true, hurried: new Promise<void>(() => {}) },
  );
  try {
    assert.equal(niceOf(spawnerOf(sandbox, set.settings)), 0);
  } finally {
    await sandbox.discard();
    await host.close();
    await set.settings.cgroups?.close();
    rmSync(set.root, { recursive: true, force: true });
  }
});
