/**
 * The platform's short commands, through the host spawner and forked from this process: the same
 * results (stdout as bytes, stderr apart, exit code, stdin), exactly the environment given, and an
 * abort that ends the command's whole group (flock and the git it started) at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpawnerLauncher } from './spawner-launcher.js';
import { launcherCommands, spawnCommand, type CommandRunner } from './run-command.js';
import { processIsAlive } from '../process-group.js';
import { waitFor } from '../../../test/support/wait.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ONLY_THIS: 'yes' };

async function withRunners(body: (name: string, run: CommandRunner) => Promise<void>): Promise<void> {
  const launcher = new SpawnerLauncher();
  try {
    await body('spawner', launcherCommands(launcher));
    await body('forked', spawnCommand);
  } finally {
    await launcher.close();
  }
}

test('stdout comes back as bytes, stderr apart, with the exit code; stdin is the input given', async () => {
  await withRunners(async (name, run) => {
    const r = await run({ file: 'sh', args: ['-c', "printf 'a\\000\\377b'; echo oops >&2; cat; exit 4"], env, input: 'from stdin\n' });
    assert.equal(r.code, 4, name);
    assert.deepEqual([...r.stdout], [...Buffer.from('a\0\xffbfrom stdin\n', 'latin1')], name);
    assert.equal(r.stderr, 'oops\n', name);
    const quiet = await run({ file: 'sh', args: ['-c', 'cat; echo end'], env });
    assert.equal(quiet.stdout.toString(), 'end\n', `${name}: no input is an empty stdin`);
  });
});

test('the command gets exactly the environment given, none of this process', async () => {
  process.env.ANSFLOW_TEST_SERVER_ONLY = 'server-secret';
  try {
    await withRunners(async (name, run) => {
      const r = await run({ file: 'env', args: [], env });
      assert.deepEqual(r.stdout.toString().trim().split('\n').sort(), [`ONLY_THIS=yes`, `PATH=${env.PATH}`], name);
    });
  } finally {
    delete process.env.ANSFLOW_TEST_SERVER_ONLY;
  }
});

test("through the spawner, the command is the spawner's child, not this process's", async () => {
  const launcher = new SpawnerLauncher();
  try {
    const r = await launcherCommands(launcher)({ file: 'sh', args: ['-c', 'echo $PPID'], env });
    assert.equal(Number(r.stdout.toString().trim()), launcher.spawnerPid);
    assert.notEqual(launcher.spawnerPid, process.pid);
  } finally {
    await launcher.close();
  }
});

test('an abort ends the whole group at once (a child the command started too) and says interrupted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-run-command-'));
  try {
    await withRunners(async (name, run) => {
      const pids = join(dir, `${name}.pids`);
      const controller = new AbortController();
      // Like flock running git: the command's own child does the waiting.
      const running = run({ file: 'sh', args: ['-c', `sleep 60 & echo "$$ $!" > ${pids}; wait`], env, signal: controller.signal });
      await waitFor(async () => existsSync(pids) && readFileSync(pids, 'utf8').endsWith('\n'), 10_000, 'the command to start');
      const started = Date.now();
      controller.abort();
      assert.deepEqual(await running, { code: null, stdout: Buffer.alloc(0), stderr: 'interrupted' }, name);
      assert.ok(Date.now() - started < 1000, `${name}: resolved without waiting for the command`);
      for (const pid of readFileSync(pids, 'utf8').trim().split(' ').map(Number))
        await waitFor(async () => !processIsAlive(pid), 5000, `${name}: process ${pid} to end`);
      // Aborted before it starts: nothing runs.
      const never = join(dir, `${name}.never`);
      const r = await run({ file: 'sh', args: ['-c', `touch ${never}`], env, signal: AbortSignal.abort() });
      assert.equal(r.stderr, 'interrupted', name);
      assert.equal(existsSync(never), false, name);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a command that cannot start is an error saying why', async () => {
  await withRunners(async (name, run) => {
    await assert.rejects(run({ file: '/nonexistent/git', args: [], env }), /ENOENT/, name);
  });
});
