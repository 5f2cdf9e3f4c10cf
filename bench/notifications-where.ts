/**
 * Where the notification outbox's cost on a run's start goes (issue 13, Performance; a diagnostic
 * beside bench/notifications.ts, left out of run-all). The same cluster (PostgreSQL, `--apis` API
 * processes each running the outbox, one worker), two phases of `--runs` runs of a one-step
 * pipeline without channels each, alternating `--phases` times: the outbox idle (nothing pending)
 * and busy (a backlog topped up to `--backlog`, the receiver answering after `--receiver-ms`).
 *
 * Per phase: trigger → first step; CPU time per second of the API processes, the worker and the
 * benchmark database's PostgreSQL backends (from /proc, so the machine's other load does not
 * count); and how late an API process answers a request that touches nothing (an unknown route:
 * its event loop's delay plus the scheduler's), sampled every 20 ms from each API in turn.
 *
 *   [ANSFLOW_CLI_MAIN=dist/cli/main.js] node --import tsx bench/notifications-where.ts [--runs 20] [--phases 2] [--apis 3] [--backlog 1000] [--receiver-ms 200]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { adminPost, slowChannelBacklog, slowReceiver, toFirstStep } from './notification-backlog.js';
import { startPgCluster } from './pg-cluster.js';
import { ascending, median, percentile } from './stats.js';

const o = { runs: 20, phases: 2, apis: 3, backlog: 1000, receiverMs: 200 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i]!;
  if (a === '--runs') o.runs = Number(process.argv[++i]);
  else if (a === '--phases') o.phases = Number(process.argv[++i]);
  else if (a === '--apis') o.apis = Number(process.argv[++i]);
  else if (a === '--backlog') o.backlog = Number(process.argv[++i]);
  else if (a === '--receiver-ms') o.receiverMs = Number(process.argv[++i]);
  else throw new Error(`unknown argument ${a}`);
}

// /proc/PID/stat counts in clock ticks: USER_HZ, 100 on Linux.
const TICK_MS = 10;

/** utime + stime of a process (and its threads), in ms; 0 when it is gone. */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

const f = (values: number[]) => {
  const s = ascending(values);
  return `${median(values).toFixed(1)} (${percentile(s, 25).toFixed(1)}–${percentile(s, 75).toFixed(1)}, p95 ${percentile(s, 95).toFixed(1)})`;
};

async function main() {
  const receiver = await slowReceiver(o.receiverMs);
  const { client, cluster, bases, token, stop, printOutputs } = await startPgCluster({ apis: o.apis, workers: 1 });
  try {
    const post = adminPost(bases[0]!, token);
    const quiet = await post('/api/projects/', { name: 'no-channels' });
    const busy = await post('/api/projects/', { name: 'with-backlog' });
    const plain = (
      await post('/api/pipelines/', { name: 'plain', project: quiet.id, steps: [{ name: 'first', type: 'shell_command', config: { command: 'true' } }] })
    ).id as number;
    const { pending, topUp } = await slowChannelBacklog(client, post, busy, receiver.url, o.backlog);
    const ownPid = Number((await client.query('SELECT pg_backend_pid() AS p')).rows[0].p);
    const backends = async () =>
      (await client.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> $1`, [ownPid])).rows.map((r) => Number(r.pid));
    for (const base of bases) await toFirstStep(base, token, plain);

    const apiPids = cluster.apis.map((p) => p.pid);
    const workerPids = cluster.workers.map((p) => p.pid);
    const results: Record<'idle' | 'busy', { start: number[]; ping: number[]; api: number[]; worker: number[]; pg: number[]; sent: number[] }> = {
      idle: { start: [], ping: [], api: [], worker: [], pg: [], sent: [] },
      busy: { start: [], ping: [], api: [], worker: [], pg: [], sent: [] },
    };
    for (let p = 0; p < o.phases * 2; p++) {
      const phase = p % 2 === 0 ? 'idle' : 'busy';
      if (phase === 'busy') await topUp();
      else {
        // Stop the backlog: wait until nothing is pending.
        while ((await pending()) > 0) await new Promise((res) => setTimeout(res, 200));
      }
      const r = results[phase];
      let pinging = true;
      let k = 0;
      const pinger = (async () => {
        while (pinging) {
          const base = bases[k++ % bases.length]!;
          const t0 = performance.now();
          await fetch(`${base}/api/no-such-route-${k}`).then((res) => res.arrayBuffer());
          r.ping.push(performance.now() - t0);
          await new Promise((res) => setTimeout(res, 20));
        }
      })();
      const pgPids = await backends();
      const before = { api: apiPids.map(cpuMs), worker: workerPids.map(cpuMs), pg: pgPids.map(cpuMs), at: performance.now(), answered: receiver.answered() };
      for (let i = 0; i < o.runs; i++) {
        if (phase === 'busy') await topUp();
        r.start.push(await toFirstStep(bases[i % bases.length]!, token, plain));
      }
      const seconds = (performance.now() - before.at) / 1000;
      const sum = (now: number[], then: number[]) => now.reduce((a, v, i) => a + v - then[i]!, 0) / seconds;
      r.api.push(sum(apiPids.map(cpuMs), before.api));
      r.worker.push(sum(workerPids.map(cpuMs), before.worker));
      r.pg.push(sum(pgPids.map(cpuMs), before.pg));
      r.sent.push((receiver.answered() - before.answered) / seconds);
      pinging = false;
      await pinger;
      console.log(
        `${phase}: start ${median(r.start.slice(-o.runs)).toFixed(0)} ms; CPU ms/s api ${r.api.at(-1)!.toFixed(0)} worker ${r.worker.at(-1)!.toFixed(0)} pg ${r.pg.at(-1)!.toFixed(0)}; sent ${r.sent.at(-1)!.toFixed(0)}/s; load ${loadavg()[0]!.toFixed(2)}`,
      );
    }
    for (const phase of ['idle', 'busy'] as const) {
      const r = results[phase];
      console.log(`\n${phase}: trigger → first step ms ${f(r.start)}; unknown-route answer ms ${f(r.ping)}`);
      console.log(`  CPU ms per s: API processes ${f(r.api)}, worker ${f(r.worker)}, PostgreSQL backends ${f(r.pg)}; deliveries/s ${f(r.sent)}`);
    }
  } catch (error) {
    printOutputs();
    throw error;
  } finally {
    await stop();
    await receiver.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
