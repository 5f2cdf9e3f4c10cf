import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess, type ProcessResult, type RunProcessOptions } from './process.js';
import { processIsAlive } from './process-group.js';
import { testLauncher as launcher } from '../../test/support/engine-harness.js';
import { waitFor } from '../../test/support/wait.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

function collect() {
  const chunks: Buffer[] = [];
  return { onOutput: (c: Buffer) => chunks.push(c), text: () => Buffer.concat(chunks).toString('utf8'), chunks };
}

/** runProcess with this file's defaults: a temporary cwd, PATH only, never aborted, 1 s grace, output dropped. */
function start(argv: string[], options: Partial<RunProcessOptions> = {}): Promise<ProcessResult> {
  return runProcess({
    launcher,
    argv,
    cwd: tmpdir(),
    env,
    signal: new AbortController().signal,
    cancelGraceMs: 1000,
    onOutput: () => undefined,
    ...options,
  });
}

function readPids(file: string): number[] {
  return readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
}

test('streams stdout and stderr as Buffers and resolves with the exit code', async () => {
  const out = collect();
  const result = await start(['bash', '-c', 'echo out; echo err >&2; exit 3'], {
    onOutput: out.onOutput,
  });
  assert.equal(result.exitCode, 3);
  assert.equal(result.aborted, false);
  assert.ok(out.chunks.every((c) => Buffer.isBuffer(c)));
  assert.match(out.text(), /out\n/);
  assert.match(out.text(), /err\n/);
});

test('output arrives while the process is still running, not only at exit', async () => {
  let firstAt = 0;
  const started = Date.now();
  const result = await start(['bash', '-c', 'echo first; sleep 0.5; echo second'], {
    onOutput: () => {
      firstAt ||= Date.now() - started;
    },
  });
  assert.equal(result.exitCode, 0);
  assert.ok(firstAt > 0 && firstAt < 400, `first chunk after ${firstAt} ms`);
});

test('the child sees exactly the environment given, nothing inherited from the server', async () => {
  process.env.ANSFLOW_TEST_SERVER_SECRET = 'server-only';
  const out = collect();
  await start(['env'], {
    env: { PATH: env.PATH, ONLY_ME: '1' },
    onOutput: out.onOutput,
  });
  delete process.env.ANSFLOW_TEST_SERVER_SECRET;
  assert.deepEqual(out.text().trim().split('\n').sort(), [`ONLY_ME=1`, `PATH=${env.PATH}`]);
});

test('a missing executable resolves with a failure instead of throwing', async () => {
  const result = await start(['/nonexistent/ansflow-no-such-binary']);
  assert.match(result.failure?.message ?? '', /^could not start: .*ENOENT/);
  assert.equal(result.exitCode, null);
});

test('a missing working directory resolves with a failure', async () => {
  const result = await start(['true'], {
    cwd: join(tmpdir(), 'ansflow-no-such-dir-' + String(process.pid)),
  });
  assert.match(result.failure?.message ?? '', /^could not start: working directory \S+ does not exist$/);
});

test('stdout and stderr are one real pipe: order kept, and /dev/stdout and /dev/stderr can be opened', async () => {
  const out = collect();
  const script = [
    'echo 1; echo 2 >&2; echo 3 > /dev/stderr; echo 4 | tee /dev/stderr > /dev/null',
    '[ -p /dev/stdout ] && [ -p /dev/stderr ] && echo pipes',
    'stat -L -c %i /dev/stdout /dev/stderr',
  ].join('; ');
  const result = await start(['bash', '-e', '-c', script], { onOutput: out.onOutput });
  assert.equal(result.exitCode, 0, out.text());
  const lines = out.text().trim().split('\n');
  assert.deepEqual(lines.slice(0, 5), ['1', '2', '3', '4', 'pipes']);
  assert.match(lines[5]!, /^\d+$/);
  assert.equal(lines[6], lines[5], 'stdout and stderr are the same pipe');
});

test('an abort that comes while the process is being launched still ends it', async () => {
  const controller = new AbortController();
  let pid = 0;
  const running = start(['sleep', '60'], { signal: controller.signal, onSpawn: (p) => (pid = p) });
  controller.abort();
  const result = await running;
  assert.equal(result.aborted, true);
  assert.equal(result.signal, 'SIGTERM');
  assert.ok(pid > 0);
  assert.equal(processIsAlive(pid), false);
});

test('abort kills a SIGTERM-ignoring leader and its forked background child (TERM, then KILL after grace)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-proc-'));
  try {
    const pidFile = join(dir, 'pids');
    const controller = new AbortController();
    const started = Date.now();
    const running = start(['bash', '-c', `trap '' TERM; (trap '' TERM; sleep 60) & echo "$$ $!" > ${pidFile}; sleep 60`], {
      cwd: dir,
      signal: controller.signal,
      cancelGraceMs: 300,
    });
    await waitFor(async () => existsSync(pidFile) && readPids(pidFile).length === 2, 5000, 'both pids');
    const pids = readPids(pidFile);
    assert.ok(pids.every(processIsAlive));
    controller.abort({ kind: 'cancel' });
    const result = await running;
    const elapsed = Date.now() - started;
    assert.equal(result.aborted, true);
    assert.equal(result.signal, 'SIGKILL', 'the leader ignored TERM, so KILL ended it');
    for (const pid of pids) assert.equal(processIsAlive(pid), false, `pid ${pid} survived`);
    assert.ok(elapsed < 3000, `took ${elapsed} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('abort of a cooperative process is quick (SIGTERM honoured, no grace wait)', async () => {
  const controller = new AbortController();
  const running = start(['sleep', '60'], {
    signal: controller.signal,
    cancelGraceMs: 5000,
  });
  await new Promise((r) => setTimeout(r, 100));
  const at = Date.now();
  controller.abort();
  const result = await running;
  assert.equal(result.signal, 'SIGTERM');
  assert.ok(Date.now() - at < 1000);
});

test('a background child holding stdout open neither hangs the step nor outlives it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-proc-'));
  try {
    const pidFile = join(dir, 'pid');
    const out = collect();
    const started = Date.now();
    const result = await start(['bash', '-c', `sleep 60 & echo $! > ${pidFile}; sleep 0.1; echo done`], {
      cwd: dir,
      onOutput: out.onOutput,
    });
    assert.equal(result.exitCode, 0);
    assert.equal(out.text(), 'done\n');
    assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
    assert.equal(processIsAlive(Number(readFileSync(pidFile, 'utf8'))), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a process that escaped the group (setsid) and holds stdout cannot hang the step', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-proc-'));
  try {
    const pidFile = join(dir, 'pid');
    const started = Date.now();
    const result = await start(['bash', '-c', `setsid sleep 30 & echo $! > ${pidFile}; sleep 0.3; echo hi`], {
      cwd: dir,
      cancelGraceMs: 200,
      stdioDrainMs: 300,
    });
    const elapsed = Date.now() - started;
    assert.equal(result.exitCode, 0);
    assert.ok(elapsed >= 550 && elapsed < 2000, `took ${elapsed} ms: the drain wait bounds it`);
    const escaped = Number(readFileSync(pidFile, 'utf8'));
    assert.equal(processIsAlive(escaped), true, 'the escaped process is out of reach of the group kill');
    process.kill(escaped, 'SIGKILL');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
