import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpawnerLauncher } from './spawner-launcher.js';
import { runProcess, type RunProcessOptions } from '../process.js';
import { processIsAlive } from '../process-group.js';
import { waitFor } from '../../../test/support/wait.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

function run(launcher: SpawnerLauncher, command: string, extra: Partial<RunProcessOptions> = {}) {
  const chunks: Buffer[] = [];
  const result = runProcess({
    launcher,
    argv: ['bash', '-c', command],
    cwd: tmpdir(),
    env,
    signal: new AbortController().signal,
    cancelGraceMs: 300,
    onOutput: (c) => chunks.push(c),
    ...extra,
  });
  return result.then((r) => ({ ...r, text: Buffer.concat(chunks).toString('utf8') }));
}

test('steps are children of the spawner, not of this process, and the spawner holds none of its environment', async () => {
  const launcher = new SpawnerLauncher();
  process.env.ANSFLOW_TEST_SERVER_ONLY = 'server-secret';
  try {
    const result = await run(launcher, 'echo "$PPID"');
    const spawnerPid = launcher.spawnerPid;
    assert.ok(spawnerPid);
    assert.equal(result.exitCode, 0);
    assert.equal(Number(result.text.trim()), spawnerPid);
    assert.notEqual(spawnerPid, process.pid);
    const names = readFileSync(`/proc/${spawnerPid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((e) => e.split('=')[0]);
    // PATH, and what Node's fork() adds for the IPC channel.
    assert.deepEqual(names.sort(), ['NODE_CHANNEL_FD', 'NODE_CHANNEL_SERIALIZATION_MODE', 'PATH']);
  } finally {
    delete process.env.ANSFLOW_TEST_SERVER_ONLY;
    await launcher.close();
  }
});

test('a step inherits no descriptor of the spawner: no IPC socket, no other pipe of the stock', async () => {
  const launcher = new SpawnerLauncher();
  try {
    // Descriptors this test process itself inherited (from whatever started it) are not ours.
    const result = await run(launcher, 'for fd in /proc/$$/fd/*; do echo "${fd##*/} $(readlink "$fd")"; done');
    const fds = result.text
      .trim()
      .split('\n')
      .map((line) => line.split(' '));
    assert.ok(!fds.some(([, target]) => target?.startsWith('socket:')), result.text);
    assert.ok(!fds.some(([fd, target]) => Number(fd) > 2 && target?.includes('ansflow-spawner-')), result.text);
    assert.match(fds.find(([fd]) => fd === '1')?.[1] ?? '', /ansflow-spawner-[^/]+\/\d+/);
  } finally {
    await launcher.close();
  }
});

test('a stocked pipe replaced by a symlink or a plain file is refused, never read as output', async () => {
  const launcher = new SpawnerLauncher();
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-spawner-test-'));
  try {
    await launcher.warmUp();
    const fifoDir = readFileSync(`/proc/${launcher.spawnerPid!}/cmdline`, 'utf8').split('\0').filter(Boolean).at(-1)!;
    writeFileSync(join(dir, 'secret'), 'SECRET-CONTENT\n');
    const stock = readdirSync(fifoDir).sort((a, b) => Number(a) - Number(b));
    // What a step running as the same user could do to the next pipes handed out.
    for (const [i, name] of stock.entries()) {
      rmSync(join(fifoDir, name));
      if (i % 2 === 0) symlinkSync(join(dir, 'secret'), join(fifoDir, name));
      else writeFileSync(join(fifoDir, name), 'SECRET-CONTENT\n');
    }
    for (let i = 0; i < 2; i++) {
      const result = await run(launcher, 'echo hi');
      assert.match(result.failure?.message ?? '', /could not start: /);
      assert.ok(!result.text.includes('SECRET-CONTENT'));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await launcher.close();
  }
});

test('many launches at once (more than one batch of pipes) each get their own output', async () => {
  const launcher = new SpawnerLauncher();
  try {
    const results = await Promise.all(Array.from({ length: 120 }, (_, i) => run(launcher, `echo start-${i}; sleep 0.05; echo end-${i} >&2`)));
    results.forEach((r, i) => {
      assert.equal(r.exitCode, 0);
      assert.equal(r.text, `start-${i}\nend-${i}\n`);
    });
  } finally {
    await launcher.close();
  }
});

/** Everything a stream carries until it ends. */
async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

test('a launch may give the process its stdin and take its stderr on a pipe of its own; else stdin is /dev/null and stderr shares stdout', async () => {
  const launcher = new SpawnerLauncher();
  try {
    // sh, not bash: bash given a pipe as stdin may read ~/.bashrc, which writes to stderr here.
    const script = 'while read -r line; do echo "out:$line"; echo "err:$line" >&2; done; echo done';
    const separate = await launcher.launch({ file: 'sh', args: ['-c', script], cwd: tmpdir(), env, input: 'a\nb\n', separateStderr: true });
    const [out, err, exit] = await Promise.all([readAll(separate.output), readAll(separate.stderr!), separate.exit]);
    assert.equal(exit.code, 0);
    assert.equal(out, 'out:a\nout:b\ndone\n');
    assert.equal(err, 'err:a\nerr:b\n');

    // The default: one pipe for both (a step's log keeps their order), nothing to read on stdin.
    const shared = await launcher.launch({ file: 'sh', args: ['-c', `${script}; readlink /proc/$$/fd/0`], cwd: tmpdir(), env });
    assert.equal(shared.stderr, undefined);
    const [text] = await Promise.all([readAll(shared.output), shared.exit]);
    assert.equal(text, 'done\n/dev/null\n');

    // Input the process never reads (it exits first) is no error, for it or for the spawner.
    const deaf = await launcher.launch({ file: 'sh', args: ['-c', 'exit 3'], cwd: tmpdir(), env, input: 'x'.repeat(1 << 20), separateStderr: true });
    const [, , deafExit] = await Promise.all([readAll(deaf.output), readAll(deaf.stderr!), deaf.exit]);
    assert.equal(deafExit.code, 3);
    const after = await run(launcher, 'echo still');
    assert.equal(after.text, 'still\n');
  } finally {
    await launcher.close();
  }
});

test('a launch whose stderr pipe was replaced by a plain file is refused, and its stdout pipe is closed', async () => {
  const launcher = new SpawnerLauncher();
  try {
    await launcher.warmUp();
    const fifoDir = readFileSync(`/proc/${launcher.spawnerPid!}/cmdline`, 'utf8').split('\0').filter(Boolean).at(-1)!;
    const stock = readdirSync(fifoDir).sort((a, b) => Number(a) - Number(b));
    // The second pipe handed out (this launch's stderr) is no pipe any more.
    rmSync(join(fifoDir, stock[1]!));
    writeFileSync(join(fifoDir, stock[1]!), 'SECRET-CONTENT\n');
    const before = readdirSync('/proc/self/fd').length;
    await assert.rejects(launcher.launch({ file: 'true', args: [], cwd: tmpdir(), env, separateStderr: true }), /is not one of the step spawner's pipes/);
    assert.equal(readdirSync('/proc/self/fd').length, before, 'no read end is left open');
    const next = await run(launcher, 'echo fine');
    assert.equal(next.text, 'fine\n');
  } finally {
    await launcher.close();
  }
});

test('a pipe is never reused: an escaped process cannot write into a later step', async () => {
  const launcher = new SpawnerLauncher();
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-spawner-test-'));
  try {
    const first = await run(launcher, `setsid bash -c 'echo $$ > ${dir}/pid; sleep 0.4; echo LEAKED' & sleep 0.1; echo first`, { stdioDrainMs: 50 });
    assert.equal(first.text, 'first\n');
    const second = await run(launcher, 'sleep 0.6; echo second');
    assert.equal(second.text, 'second\n');
    process.kill(Number(readFileSync(join(dir, 'pid'), 'utf8')), 'SIGKILL');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await launcher.close();
  }
});

test('when the spawner dies mid-step the step fails saying so, its group is killed, and the next launch starts a new spawner', async () => {
  const launcher = new SpawnerLauncher();
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-spawner-test-'));
  try {
    let leader = 0;
    const running = run(launcher, `sleep 60 & echo $! > ${dir}/child; echo ready; wait`, { onSpawn: (pid) => (leader = pid) });
    await waitFor(async () => existsSync(join(dir, 'child')) && readFileSync(join(dir, 'child'), 'utf8').endsWith('\n'), 5000, 'the step to start');
    const firstSpawner = launcher.spawnerPid!;
    process.kill(firstSpawner, 'SIGKILL');
    const result = await running;
    assert.match(result.failure?.message ?? '', /the step spawner exited \(SIGKILL\) while the process ran: how it ended is unknown/);
    assert.equal(result.text, 'ready\n', 'output written before the spawner died is kept');
    assert.equal(processIsAlive(leader), false);
    assert.equal(processIsAlive(Number(readFileSync(join(dir, 'child'), 'utf8'))), false);

    const next = await run(launcher, 'echo again');
    assert.equal(next.text, 'again\n');
    assert.notEqual(launcher.spawnerPid, firstSpawner);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await launcher.close();
  }
});

test('close() stops the spawner and removes its pipes; later launches fail', async () => {
  const launcher = new SpawnerLauncher();
  await launcher.warmUp();
  const pid = launcher.spawnerPid!;
  const fifoDir = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).at(-1)!;
  assert.ok(readdirSync(fifoDir).length > 0, 'a stock of pipes is ready');
  await launcher.close();
  assert.equal(processIsAlive(pid), false);
  assert.equal(existsSync(fifoDir), false);
  const result = await run(launcher, 'true');
  assert.match(result.failure?.message ?? '', /the step launcher is closed/);
});

test('the spawner ignores SIGTERM and SIGINT, and exits when the process that forked it is killed with SIGKILL', async () => {
  // A parent that starts a launcher, prints the spawner's pid, then waits to be killed.
  const script = [
    `import { SpawnerLauncher } from ${JSON.stringify(new URL('./spawner-launcher.ts', import.meta.url).href)};`,
    'const launcher = new SpawnerLauncher();',
    'await launcher.warmUp();',
    'console.log(launcher.spawnerPid);',
    'setInterval(() => {}, 1000);',
  ].join('\n');
  const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    parent.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor(async () => out.includes('\n'), 20_000, 'the spawner pid');
    const spawnerPid = Number(out.trim());
    assert.ok(processIsAlive(spawnerPid));
    process.kill(spawnerPid, 'SIGTERM');
    process.kill(spawnerPid, 'SIGINT');
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(processIsAlive(spawnerPid), 'signals meant for the service do not end the spawner under running steps');
    parent.kill('SIGKILL');
    await waitFor(async () => !processIsAlive(spawnerPid), 5000, 'the spawner to exit');
  } finally {
    parent.kill('SIGKILL');
  }
});

test('a process the spawner starts for this one is its child, and talks to this process over the channel handed over', async () => {
  const launcher = new SpawnerLauncher();
  try {
    const program = "process.on('message', (m) => process.send({ type: 'reply', id: m.id, ok: process.ppid > 0 }));";
    const started = launcher.startProcess({
      file: process.execPath,
      args: ['-e', program],
      env: { ...env, NODE_CHANNEL_FD: '3', NODE_CHANNEL_SERIALIZATION_MODE: 'json' },
    });
    const reply = new Promise((resolve) => started.on('message', resolve));
    started.send({ type: 'alive', id: 7, pgid: 1 }, () => undefined);
    assert.deepEqual(await reply, { type: 'reply', id: 7, ok: true });
    const pid = started.pid!;
    const parent = Number(readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ')[1]);
    assert.equal(parent, launcher.spawnerPid, 'started by the spawner, not forked by this process');
    // Closing the channel ends it (as a spawner's 'disconnect' does); its exit is reported after.
    const exited = new Promise((resolve) => started.once('exit', resolve));
    started.disconnect();
    await exited;
    await waitFor(async () => !processIsAlive(pid), 5000, 'the process to end');
  } finally {
    await launcher.close();
  }
});

test("a started process's exit is its real end, not its channel closing (a sandbox outlives its spawner's channel)", async () => {
  const launcher = new SpawnerLauncher();
  try {
    // Closes the channel at once, then lives on for a while, as bubblewrap does while it takes the
    // namespaces down after the spawner inside has gone.
    const started = launcher.startProcess({ file: 'bash', args: ['-c', 'exec 3>&-; sleep 0.5; exit 3'], env });
    const exit = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => started.once('exit', (code, signal) => resolve([code, signal])));
    await waitFor(async () => started.pid !== undefined && !started.connected, 5000, 'the channel to close');
    const pid = started.pid!;
    assert.ok(processIsAlive(pid), 'the process outlives its channel');
    assert.deepEqual(await exit, [3, null]);
    assert.ok(!processIsAlive(pid), "'exit' came once the process was gone");
  } finally {
    await launcher.close();
  }
});

test('what a started process writes on its channel at once reaches this process, however long the hand-over takes', async () => {
  // spawner.pl announces its first pipes a few milliseconds after it starts, before the host's
  // spawner may have handed its channel over: handles go one at a time, each after this process
  // has acknowledged the last, so under load a channel waits there for a while. Whatever the host's
  // spawner read from it meanwhile went with the handle: a sandbox whose spawner never became ready.
  const launcher = new SpawnerLauncher();
  try {
    await launcher.warmUp();
    const count = 12;
    const started = Array.from({ length: count }, (_, i) =>
      launcher.startProcess({
        file: 'sh',
        // The line at once, then alive until the channel closes (read sees its end).
        args: ['-c', `printf '{"type":"reply","id":${i},"ok":true}\\n' >&3; read -r _ <&3`],
        env,
      }),
    );
    const received = new Map<number, unknown>();
    started.forEach((process, i) => process.on('message', (message) => received.set(i, message)));
    // Once the requests are out, this process busy (as a server is): the first hand-over's
    // acknowledgement, and so every other hand-over, waits until the processes have written.
    await new Promise((resolve) => setImmediate(resolve));
    const until = Date.now() + 500;
    while (Date.now() < until);
    // A bound for a line that never comes, not a speed target.
    await waitFor(async () => received.size === count || undefined, 30_000, `a line from each of ${count} processes`).catch((error: Error) => {
      throw new Error(`${error.message}: ${received.size} arrived`);
    });
    assert.deepEqual(
      started.map((_, i) => received.get(i)),
      started.map((_, i) => ({ type: 'reply', id: i, ok: true })),
    );
    const exits = started.map((process) => new Promise((resolve) => process.once('exit', resolve)));
    for (const process of started) process.disconnect();
    await Promise.all(exits);
  } finally {
    await launcher.close();
  }
});
