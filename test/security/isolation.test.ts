/**
 * Hostile steps against the real server, as a developer (who may save and run pipelines) would
 * write them. Each one tries something a step must never be able to do, and the run shows whether
 * it could; every attempt is checked from outside as well (the server's files, its pid, the host's
 * /tmp). Ordinary steps keep working beside them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { startApi, type Harness } from '../support/api-harness.js';
import { isFinalStatus } from '../support/run-status.js';
import { waitFor } from '../support/wait.js';

const CANARY = `canary-${randomUUID()}`;
// The escapee's sleep has a duration no other process on the machine has, so a `sleep 300` of
// someone else's (seen on a shared machine) is not taken for it.
const ESCAPEE_SLEEP = `300.${process.pid}`;

/** Host pids of the escapee's `sleep` processes (below). */
function sleepers(): string[] {
  return readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `sleep\u0000${ESCAPEE_SLEEP}\u0000`;
    } catch {
      return false;
    }
  });
}

describe('a step cannot reach the platform', () => {
  let h: Harness;
  let dev: string;
  before(async () => {
    // A value only the server's own environment holds.
    process.env.ANSFLOW_TEST_CANARY = CANARY;
    h = await startApi({ maxConcurrentRuns: 4 });
    const sandbox = h.worker.sandbox;
    assert.ok(sandbox?.isolated, `the sandbox must be available on this machine (Debian: bubblewrap): ${JSON.stringify(sandbox)}`);
    dev = await h.userToken('mallory', 'developer');
  });
  after(async () => {
    delete process.env.ANSFLOW_TEST_CANARY;
    await h.close();
  });

  const runSteps = async (name: string, steps: unknown[]) => {
    const p = await h.request('POST', '/api/pipelines/', { token: dev, body: { name, steps } });
    assert.equal(p.status, 201, p.text);
    const r = await h.request('POST', `/api/pipelines/${p.json.id}/run/`, { token: dev, body: {} });
    assert.equal(r.status, 201, r.text);
    return r.json.id as number;
  };
  const finished = (runId: number, timeoutMs = 60_000) =>
    waitFor(
      async () => {
        const r = await h.request('GET', `/api/pipeline-runs/${runId}/`, { token: dev });
        return isFinalStatus(r.json.status) ? r.json : undefined;
      },
      timeoutMs,
      `run ${runId} to finish`,
    );
  const log = async (runId: number) => (await h.request('GET', `/api/pipeline-runs/${runId}/logs/`, { token: dev })).text;
  const shell = (name: string, command: string, extra: Record<string, unknown> = {}) => ({ name, type: 'shell_command', config: { command }, ...extra });
  /** Runs one shell step and answers its log and run. */
  const attempt = async (name: string, command: string, extra: Record<string, unknown> = {}) => {
    const id = await runSteps(name, [shell('try', command, extra)]);
    const run = await finished(id);
    return { run, log: await log(id) };
  };

  test('the secret key, the database and the logs are not there', async () => {
    const key = readFileSync(`${h.dataDir}/secret.key`, 'utf8').trim();
    const { log: out } = await attempt(
      'read-key',
      [
        'cat "$ANSFLOW_WORKSPACE/../../secret.key" || echo "no key via workspace"',
        `cat ${h.dataDir}/secret.key || echo "no key by path"`,
        `ls -la ${h.dataDir} || true`,
        `test -e ${h.dataDir}/ansflow.db && echo "DATABASE VISIBLE" || echo "no database"`,
        `ls ${h.dataDir}/logs 2>&1 || echo "no logs"`,
        'grep -r . /proc/*/environ 2>/dev/null | head -5; echo "environ done"',
      ].join('\n'),
    );
    assert.ok(!out.includes(key), 'the secret key reached a step');
    assert.match(out, /no key via workspace/);
    assert.match(out, /no key by path/);
    assert.match(out, /no database/);
    assert.match(out, /no logs/);
    assert.ok(!out.includes(CANARY), "the server's environment reached a step");
  });

  test("the server's processes are invisible and cannot be signalled", async () => {
    const { log: out } = await attempt(
      'signal-server',
      [
        `kill -0 ${process.pid} && echo "CAN SIGNAL SERVER" || echo "server unreachable"`,
        `kill -TERM ${process.pid} 2>/dev/null || true`,
        'ps -eo pid,user,args',
        `test -e /proc/${process.pid}/environ && cat /proc/${process.pid}/environ | tr "\\0" "\\n" | grep ANSFLOW_TEST_CANARY; echo "proc done"`,
        'echo "uid=$(id -u)"',
      ].join('\n'),
    );
    assert.match(out, /server unreachable/);
    assert.ok(!out.includes(CANARY));
    assert.ok(!out.includes('node --import'), 'a server or test process is visible');
    // Still alive and answering.
    assert.equal((await h.request('GET', '/api/pipelines/', { token: dev })).status, 200);
    if (process.getuid?.() === 0) assert.match(out, /uid=61000/, 'a root server runs steps as the unprivileged sandbox user');
  });

  test("another run's workspace cannot be read while it runs", async () => {
    const secret = `private-${randomUUID()}`;
    const victim = await runSteps('victim', [shell('hold', `echo ${secret} > mine.txt; sleep 6`)]);
    const victimRun = await waitFor(
      async () => {
        const r = await h.request('GET', `/api/pipeline-runs/${victim}/`, { token: dev });
        return r.json.steps[0].status === 'running' ? r.json : undefined;
      },
      20_000,
      'the victim to run',
    );
    const workspace = `${h.dataDir}/workspaces/run-${victimRun.id as number}`;
    await waitFor(async () => existsSync(`${workspace}/mine.txt`) || undefined, 10_000, 'the victim to write');
    const { log: out } = await attempt(
      'snoop',
      [
        `cat ${workspace}/mine.txt || echo "not readable"`,
        `cat "$ANSFLOW_WORKSPACE/../run-${victimRun.id as number}/mine.txt" || echo "not readable either"`,
      ].join('\n'),
    );
    assert.ok(!out.includes(secret), "another run's workspace was read");
    assert.match(out, /not readable\n/);
    assert.equal((await finished(victim)).status, 'success');
  });

  test('nothing outside the workspace is writable; /tmp is private', async () => {
    const marker = `pwned-${randomUUID()}`;
    const { run, log: out } = await attempt(
      'write-outside',
      [
        `touch /etc/${marker} 2>/dev/null && echo "WROTE ETC" || echo "etc read-only"`,
        `touch ${h.dataDir}/${marker} 2>/dev/null && echo "WROTE DATA" || echo "data read-only"`,
        `touch /tmp/${marker} && echo "tmp is writable"`,
        `touch $HOME/${marker} && echo "home is writable"`,
        `echo ok > "$ANSFLOW_WORKSPACE/${marker}" && echo "workspace is writable"`,
      ].join('\n'),
    );
    assert.equal(run.status, 'success', out);
    assert.match(out, /etc read-only/);
    assert.match(out, /data read-only/);
    assert.match(out, /tmp is writable/);
    assert.match(out, /workspace is writable/);
    assert.equal(existsSync(`/etc/${marker}`), false);
    assert.equal(existsSync(`${h.dataDir}/${marker}`), false);
    assert.equal(existsSync(`/tmp/${marker}`), false, "the step's /tmp is the host's");
  });

  test('a memory hog is killed at its limit, saying which; the server and a run beside it are fine', async () => {
    const beside = await runSteps('beside-memory', [shell('calm', 'sleep 1; echo calm')]);
    const { run, log: out } = await attempt('memory-hog', `python3 -c 'b = bytearray(512 * 1024 * 1024); print("allocated", len(b))'`, {
      limits: { memory: '64m' },
    });
    assert.equal(run.status, 'failed', out);
    assert.match(out, /step killed: memory limit 64 MiB exceeded/);
    assert.ok(!out.includes('allocated'));
    assert.equal((await finished(beside)).status, 'success');
    assert.equal((await h.request('GET', '/api/pipelines/', { token: dev })).status, 200);
  });

  test('a fork bomb is stopped at the process limit, saying which; the server and a run beside it are fine', async () => {
    const beside = await runSteps('beside-bomb', [shell('calm', 'sleep 1; echo calm')]);
    const started = Date.now();
    const { run, log: out } = await attempt('fork-bomb', 'bomb() { bomb | bomb & }; bomb; sleep 30', { limits: { processes: 64 } });
    assert.equal(run.status, 'failed', out);
    assert.match(out, /step killed: process limit 64 reached/);
    assert.ok(Date.now() - started < 25_000, 'the bomb was stopped, not left to its sleep');
    assert.equal((await finished(beside)).status, 'success');
    assert.equal((await h.request('GET', '/api/pipelines/', { token: dev })).status, 200);
  });

  test('a CPU share holds a busy step to its part of a core', async () => {
    // Two seconds of spinning with a fifth of a core: about 0.4 s of CPU, whatever the machine does.
    const { run, log: out } = await attempt('busy', 'TIMEFORMAT=%U; time (timeout 2 bash -c "while :; do :; done" || true)', { limits: { cpus: 0.2 } });
    assert.equal(run.status, 'success', out);
    const used = Number(/^(\d+\.\d+)$/m.exec(out)?.[1]);
    assert.ok(used > 0 && used < 0.9, `user CPU ${used} s for 2 s of spinning at 0.2 cores:\n${out}`);
  });

  test('a file larger than the limit is refused, saying which', async () => {
    const { run, log: out } = await attempt('big-file', 'head -c 4194304 /dev/zero > big.bin', { limits: { file_size: '1m' } });
    assert.equal(run.status, 'failed', out);
    assert.match(out, /step killed: file size limit 1 MiB exceeded/);
  });

  test('network: none gives the step an empty network of its own', async () => {
    const port = new URL(h.baseUrl).port;
    const probe = `(exec 3<>/dev/tcp/127.0.0.1/${port} && echo "REACHED API") 2>/dev/null || echo "no route"; grep -c : /proc/net/dev`;
    const isolated = await attempt('no-network', probe, { network: 'none' });
    assert.equal(isolated.run.status, 'success', isolated.log);
    assert.match(isolated.log, /no route/);
    const connected = await attempt('host-network', probe);
    assert.match(connected.log, /REACHED API/, 'by default the network is available (git and ansible need it)');
  });

  test('a process that escaped its group with setsid still ends with the run', async () => {
    const { run, log: out } = await attempt('escape', `setsid sleep ${ESCAPEE_SLEEP} & echo "escapee $!"; sleep 0.2`);
    assert.equal(run.status, 'success', out);
    // Nothing of the run is left: its sandbox, and with it its PID namespace, is gone. The sandbox
    // winds down after the run's outcome is reported, and a spawner that does not leave at once is
    // killed after 5 s (CLOSE_TIMEOUT_MS), so waiting exactly 5 s raced that fallback on a loaded
    // machine (seen in CI). What this asserts is that the escapee ends, not how fast.
    await waitFor(async () => (sleepers().length === 0 ? true : undefined), 30_000, 'the escaped sleep to end');
  });
});
