/**
 * spawner.pl, the spawner inside a run's sandbox, driven by the server's own Spawner over a real
 * IPC channel — here outside a sandbox, so that this test sees its processes (run-sandbox.test.ts
 * and test/security run it inside one). Its pids are treated as a sandbox's (`hostPids: false`):
 * groups are signalled and checked through it, as from a sandbox.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forkedProcess, Spawner } from '../spawner-launcher.js';
import type { LaunchedProcess, LaunchRequest } from '../launcher.js';
import { chooseSandboxSpawner } from './sandbox-spawner.js';
import { processIsAlive } from '../../process-group.js';
import { waitFor } from '../../../../test/support/wait.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const PERL = '/usr/bin/perl';

function perlSpawner(): Spawner {
  const chosen = chooseSandboxSpawner(existsSync(PERL) ? PERL : null);
  assert.equal(chosen.kind, 'perl', 'perl runs the sandbox spawner on this machine');
  const argv = chosen.kind === 'perl' ? chosen.argv : [];
  return new Spawner({
    fifoDir: () => mkdtempSync(join(tmpdir(), 'ansflow-perl-spawner-test-')),
    hostPids: false,
    fork: (args) =>
      forkedProcess(
        fork(argv.at(-2)!, [argv.at(-1)!, ...args], {
          execPath: argv[0]!,
          execArgv: [],
          env: { PATH: env.PATH },
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          serialization: 'json',
        }),
      ),
  });
}

async function output(launched: LaunchedProcess): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of launched.output) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function shell(script: string, extra: Partial<LaunchRequest> = {}): LaunchRequest {
  return { file: 'sh', args: ['-c', script], cwd: tmpdir(), env, ...extra };
}

test('a launch round trip: output of both streams in one pipe, the exit code, the exact environment, a session of its own', async () => {
  const spawner = perlSpawner();
  try {
    await spawner.started();
    const stepEnv = { PATH: env.PATH, ODD: 'é "quoted" \\ back\ttab\u0001 ☃ 😀', EMPTY: '' };
    const launched = await spawner.launch(
      shell('echo out; echo err >&2; env | sort; read -r line || echo "stdin: empty"; cut -d" " -f4,5,6 /proc/$$/stat; pwd; exit 3', { env: stepEnv }),
    );
    const text = await output(launched);
    const exit = await launched.exit;
    assert.deepEqual(exit, { code: 3, signal: null, groupGone: true });
    const lines = text.split('\n');
    assert.deepEqual(lines.slice(0, 2), ['out', 'err']);
    assert.ok(text.includes(`ODD=${stepEnv.ODD}\n`), text);
    assert.deepEqual(
      lines.filter((l) => /^[A-Z]+=/.test(l)),
      ['EMPTY=', `ODD=${stepEnv.ODD}`, `PATH=${env.PATH}`, `PWD=${tmpdir()}`],
      'only what was given (and what sh sets itself)',
    );
    assert.ok(lines.includes('stdin: empty'));
    // Fields 4-6 of its stat: parent, process group, session. Leader of both; the spawner's child.
    const [ppid, pgrp, session] = lines
      .find((l) => /^\d+ \d+ \d+$/.test(l))!
      .split(' ')
      .map(Number);
    assert.equal(pgrp, launched.pid);
    assert.equal(session, launched.pid);
    assert.equal(ppid, spawner.pid);
  } finally {
    await spawner.close();
  }
});

test("a step's output pipe is 1 MiB (or the system's maximum), and it inherits no descriptor but 0, 1 and 2", async () => {
  const spawner = perlSpawner();
  try {
    const launched = await spawner.launch({
      file: 'perl',
      args: ['-e', 'print fcntl(STDOUT, 1032, 0) + 0, "\\n"; opendir(my $d, "/proc/self/fd"); print join(" ", sort grep { /^\\d+$/ } readdir $d), "\\n"'],
      cwd: tmpdir(),
      env,
    });
    const [size, fds] = (await output(launched)).trim().split('\n');
    const max = Number(readFileSync('/proc/sys/fs/pipe-max-size', 'utf8'));
    assert.equal(Number(size), Math.min(1024 * 1024, max), 'F_GETPIPE_SZ of its stdout');
    // 3 is the folder perl itself reads to list them.
    assert.equal(fds, '0 1 2 3');
    assert.equal((await launched.exit).code, 0);
  } finally {
    await spawner.close();
  }
});

test('a file size limit is set in the child before exec (soft and hard): the step cannot raise it, and writing past it ends the step with SIGXFSZ', async () => {
  const spawner = perlSpawner();
  try {
    const limited = await spawner.launch(shell('grep "Max file size" /proc/self/limits; ulimit -f unlimited 2>/dev/null && echo raised || echo kept'), {
      fileSizeBytes: 1024 * 1024,
    });
    assert.match(await output(limited), /^Max file size\s+1048576\s+1048576\s+bytes\s*\nkept\n$/);
    assert.equal((await limited.exit).code, 0);
    const dir = mkdtempSync(join(tmpdir(), 'ansflow-perl-fsize-test-'));
    try {
      const writer = await spawner.launch({ file: 'head', args: ['-c', '2000000', '/dev/zero'], cwd: dir, env }, { fileSizeBytes: 1024 * 1024 });
      writer.output.resume();
      assert.equal((await writer.exit).code, 0, 'writing into the pipe is not writing a file');
      const file = await spawner.launch({ file: 'sh', args: ['-c', 'exec head -c 2000000 /dev/zero > big'], cwd: dir, env }, { fileSizeBytes: 1024 * 1024 });
      file.output.resume();
      assert.equal((await file.exit).signal, 'SIGXFSZ');
      assert.equal(readFileSync(join(dir, 'big')).length, 1024 * 1024);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Without one, the spawner's own: this process's, which it inherited.
    const own = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max file size'))!;
    const unlimited = await spawner.launch(shell('grep "Max file size" /proc/self/limits'));
    assert.equal((await output(unlimited)).trim(), own.trim());
  } finally {
    await spawner.close();
  }
});

test('failed launches say why: a missing executable, a missing working directory, a NUL byte; the spawner carries on', async () => {
  const spawner = perlSpawner();
  try {
    await assert.rejects(spawner.launch({ file: '/nonexistent/ansflow-no-such-binary', args: [], cwd: tmpdir(), env }), /ENOENT/);
    const missing = join(tmpdir(), `ansflow-no-such-dir-${process.pid}`);
    await assert.rejects(spawner.launch(shell('true', { cwd: missing })), new RegExp(`^Error: working directory ${missing} does not exist$`));
    await assert.rejects(spawner.launch(shell('true', { env: { PATH: env.PATH, X: 'a\0b' } })), /without null bytes/);
    const launched = await spawner.launch(shell('echo still here'));
    assert.equal(await output(launched), 'still here\n');
  } finally {
    await spawner.close();
  }
});

test('groups: signalled and checked through the spawner; groupGone only when nothing of the group is left', async () => {
  const spawner = perlSpawner();
  try {
    // The leader exits at once, a background member of its group lives on.
    const left = await spawner.launch(shell('sleep 30 >/dev/null 2>&1 & echo $!'));
    const member = Number((await output(left)).trim());
    assert.deepEqual(await left.exit, { code: 0, signal: null }, 'no groupGone: a member is left');
    assert.equal(await left.groupAlive(), true);
    assert.equal(await left.signalGroup('SIGKILL'), true);
    await waitFor(async () => !(await left.groupAlive()), 5000, 'the group to be gone');
    assert.equal(processIsAlive(member), false);

    const sleeper = await spawner.launch({ file: 'sleep', args: ['30'], cwd: tmpdir(), env });
    sleeper.output.resume();
    assert.equal(await sleeper.signalGroup('SIGTERM'), true);
    assert.deepEqual(await sleeper.exit, { code: null, signal: 'SIGTERM', groupGone: true });
  } finally {
    await spawner.close();
  }
});

test('input on stdin (larger than any pipe: written as the child reads) and stderr on a pipe of its own', async () => {
  const spawner = perlSpawner();
  try {
    const input = `first line\n${'x'.repeat(3 * 1024 * 1024)}\n`;
    const launched = await spawner.launch(shell('read -r line; echo "$line"; sleep 0.2; wc -c; echo oops >&2', { input, separateStderr: true }));
    assert.ok(launched.stderr);
    const [stdout, stderr] = await Promise.all([output(launched), output({ ...launched, output: launched.stderr })]);
    assert.equal(stdout, `first line\n${input.length - 'first line\n'.length}\n`);
    assert.equal(stderr, 'oops\n');
    assert.equal((await launched.exit).code, 0);
    // While it was written, the spawner carried on.
    const other = await spawner.launch(shell('echo next'));
    assert.equal(await output(other), 'next\n');
  } finally {
    await spawner.close();
  }
});

test('more than one batch of pipes: 40 launches at once each get their own output', async () => {
  const spawner = perlSpawner();
  try {
    const launched = await Promise.all(Array.from({ length: 40 }, (_, i) => spawner.launch(shell(`echo step-${i}`))));
    const texts = await Promise.all(launched.map(output));
    assert.deepEqual(
      texts,
      launched.map((_, i) => `step-${i}\n`),
    );
  } finally {
    await spawner.close();
  }
});

test('it ignores SIGTERM, SIGINT and SIGHUP, exits when its channel closes and removes its folder of pipes', async () => {
  const spawner = perlSpawner();
  await spawner.started();
  const pid = spawner.pid!;
  writeFileSync(join(spawner.fifoDir, 'stray'), '');
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.kill(pid, signal);
  const launched = await spawner.launch(shell('echo alive'));
  assert.equal(await output(launched), 'alive\n');
  assert.ok(readdirSync(spawner.fifoDir).length > 1);
  await spawner.close();
  assert.equal(processIsAlive(pid), false);
  assert.equal(existsSync(spawner.fifoDir), false);
  rmSync(spawner.fifoDir, { recursive: true, force: true });
});

test('the Node spawner stays the fallback where spawner.pl cannot run', () => {
  assert.deepEqual(chooseSandboxSpawner(null), { kind: 'node', reason: 'perl is not installed' });
  assert.match((chooseSandboxSpawner(PERL, 'ppc64') as { reason: string }).reason, /no system call numbers for ppc64/);
  assert.match((chooseSandboxSpawner(PERL, 'x64', '/nonexistent/spawner.pl') as { reason: string }).reason, /missing/);
});
