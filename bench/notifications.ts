/**
 * Notifications never slow a run (issue 13, Performance): trigger → first step of a one-step
 * pipeline whose project has no notification channels, against the same pipeline in a project
 * whose webhook channel has 1,000 deliveries outstanding to a slow receiver (it answers each after
 * 200 ms), side by side in one run of this script, on PostgreSQL with three API processes.
 *
 * Real processes from source (test/scale/support.ts): `--apis` API processes (`serve --role api`;
 * every one runs the notification outbox, claiming rows so each is sent once), `--workers` worker
 * processes, PostgreSQL (a fresh database) and Redis. Each round runs three one-step pipelines in a
 * rotating order: `plain` and `plain-b` (a project without channels: the baseline twice, so its
 * own noise is measured: the A/A difference) and `notified` (the project with the slow channel;
 * the run adds a delivery of its own). Before EVERY run, whichever pipeline's, the backlog is
 * topped up to `--backlog` pending deliveries, written straight into `notification_deliveries`,
 * so the outboxes are sending the whole time and the bench's own INSERT precedes every arm alike
 * (topping up before the notified run only put that write, up to ~200 rows, on its arm alone).
 * A round's three runs go through the same API process; rounds rotate over them.
 *
 * First, before any delivery exists, `--idle-rounds` rounds of `plain` and `plain-b` with the
 * outbox idle: what the outbox's work costs every run, channels or not (the side-by-side
 * comparison cannot show that, both sides share the machine). Last, the topping up stops and the
 * backlog is timed until it has drained: the outbox's own rate with no runs starting.
 *
 * Measured from this process' clock before the POST to the step's stored `started_at` (same
 * machine, millisecond precision).
 *
 *   [ANSFLOW_CLI_MAIN=dist/cli/main.js] node --import tsx bench/notifications.ts [--rounds 30] [--idle-rounds 30] [--backlog 1000] [--receiver-ms 200] [--apis 3] [--workers 1] [--no-doc]
 *
 * Prints a table and writes it into the "Notifications beside runs" section of docs/benchmarks.md
 * (unless --no-doc). Exits non-zero only when a run failed or nothing was delivered, never because
 * of the figures.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_NOTIFICATION_TIMING } from '../src/services/notifications/notification-outbox.js';
import { format, resolveConfig } from 'prettier';
import { writeDocSection } from './bench-server.js';
import { adminPost, slowChannelBacklog, slowReceiver, toFirstStep } from './notification-backlog.js';
import { startPgCluster } from './pg-cluster.js';
import { ascending, median, percentile } from './stats.js';

const o = { rounds: 30, idleRounds: -1, backlog: 1000, receiverMs: 200, apis: 3, workers: 1, writeDoc: true };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i]!;
  if (a === '--rounds') o.rounds = Number(process.argv[++i]);
  else if (a === '--idle-rounds') o.idleRounds = Number(process.argv[++i]);
  else if (a === '--backlog') o.backlog = Number(process.argv[++i]);
  else if (a === '--receiver-ms') o.receiverMs = Number(process.argv[++i]);
  else if (a === '--apis') o.apis = Number(process.argv[++i]);
  else if (a === '--workers') o.workers = Number(process.argv[++i]);
  else if (a === '--no-doc') o.writeDoc = false;
  else throw new Error(`unknown argument ${a}`);
}
if (o.idleRounds < 0) o.idleRounds = o.rounds;

const STEP = { name: 'first', type: 'shell_command', config: { command: 'true' } };

const ms = (v: number) => `${v.toFixed(0)} ms`;

/** Waits until no delivery is pending (bounded: a backlog that never drains fails the bench). */
async function waitDrained(pending: () => Promise<number>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await pending()) > 0) {
    if (Date.now() > deadline) throw new Error(`deliveries still pending after ${timeoutMs / 1000} s`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function main() {
  const receiver = await slowReceiver(o.receiverMs);
  let failed = false;
  const { client, bases, token, printOutputs, stop } = await startPgCluster({ apis: o.apis, workers: o.workers }).catch(async (error: unknown) => {
    await receiver.close();
    throw error;
  });
  try {
    const post = adminPost(bases[0]!, token);
    const quiet = await post('/api/projects/', { name: 'no-channels' });
    const busy = await post('/api/projects/', { name: 'with-backlog' });
    const arms = {
      plain: (await post('/api/pipelines/', { name: 'plain', project: quiet.id, steps: [STEP] })).id as number,
      'plain-b': (await post('/api/pipelines/', { name: 'plain-b', project: quiet.id, steps: [STEP] })).id as number,
      notified: (await post('/api/pipelines/', { name: 'notified', project: busy.id, steps: [STEP] })).id as number,
    };
    const { pending, topUp } = await slowChannelBacklog(client, post, busy, receiver.url, o.backlog);

    // Warm up every arm on every API process (first queries, first sandbox); the notified runs' own deliveries are sent meanwhile.
    for (const base of bases) for (const id of Object.values(arms)) await toFirstStep(base, token, id);
    await waitDrained(pending, 60_000);
    const loadBefore = loadavg()[0]!;
    // The outbox idle: no delivery pending, the same two pipelines.
    const idle: number[] = [];
    for (let i = 0; i < o.idleRounds; i++) {
      const base = bases[i % bases.length]!;
      for (const name of i % 2 === 0 ? (['plain', 'plain-b'] as const) : (['plain-b', 'plain'] as const)) idle.push(await toFirstStep(base, token, arms[name]));
    }
    const samples: Record<keyof typeof arms, number[]> = { plain: [], 'plain-b': [], notified: [] };
    const pendingSeen: number[] = [];
    const names = Object.keys(arms) as (keyof typeof arms)[];
    await topUp();
    const answeredBefore = receiver.answered();
    const started = Date.now();
    for (let i = 0; i < o.rounds; i++) {
      const base = bases[i % bases.length]!;
      for (let k = 0; k < names.length; k++) {
        const name = names[(i + k) % names.length]!;
        await topUp();
        if (name === 'notified') pendingSeen.push(await pending());
        samples[name].push(await toFirstStep(base, token, arms[name]));
      }
    }
    const seconds = (Date.now() - started) / 1000;
    const sent = receiver.answered() - answeredBefore;
    // The backlog left, with no runs starting: how fast the outbox drains on its own.
    const left = await pending();
    const drainStarted = Date.now();
    const answeredBeforeDrain = receiver.answered();
    await waitDrained(pending, 300_000);
    const drainSeconds = (Date.now() - drainStarted) / 1000;
    const drained = receiver.answered() - answeredBeforeDrain;
    const loadAfter = loadavg()[0]!;
    if (sent === 0) {
      failed = true;
      console.error('no delivery reached the receiver while measuring');
    }

    const row = (name: string, values: number[]) => {
      const s = ascending(values);
      return `| ${name} | ${values.length} | ${ms(median(values))} | ${ms(percentile(s, 25))} – ${ms(percentile(s, 75))} | ${ms(percentile(s, 95))} | ${ms(s.at(-1)!)} |`;
    };
    const base = ascending([...samples.plain, ...samples['plain-b']]);
    const baseMedian = median(base);
    const [q1, q3] = [percentile(base, 25), percentile(base, 75)];
    const withMedian = median(samples.notified);
    const aa = Math.abs(median(samples.plain) - median(samples['plain-b']));
    const verdict = withMedian >= q1 && withMedian <= q3 ? 'inside' : 'outside';
    const lines = [
      `Measured ${new Date().toISOString().slice(0, 10)} with \`${process.env.ANSFLOW_CLI_MAIN ? `ANSFLOW_CLI_MAIN=${process.env.ANSFLOW_CLI_MAIN} ` : ''}node --import tsx bench/notifications.ts --rounds ${o.rounds} --idle-rounds ${o.idleRounds} --backlog ${o.backlog} --receiver-ms ${o.receiverMs} --apis ${o.apis} --workers ${o.workers}\`: ${o.apis} API processes (each runs the outbox, ${DEFAULT_NOTIFICATION_TIMING.concurrency} sends at once) and ${o.workers} worker process(es) (2 slots) ${process.env.ANSFLOW_CLI_MAIN ? 'from the build' : 'from source'}, PostgreSQL and Redis on this machine; ${availableParallelism()} cores, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}; load average (1 min) ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after.`,
      '',
      `Trigger → first step (client clock before the POST → the step's \`started_at\`): first ${o.idleRounds} rounds of the two plain pipelines with nothing pending, then ${o.rounds} rounds of the three pipelines in rotating order, the backlog topped up before every run:`,
      '',
      '| pipeline | runs | median | p25 – p75 | p95 | max |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...(idle.length > 0 ? [row('plain and plain-b, the outbox idle (nothing pending)', idle)] : []),
      row('plain (no channels)', samples.plain),
      row('plain-b (no channels, the A/A check)', samples['plain-b']),
      row(`notified (${o.backlog.toLocaleString('en-US')} pending to a receiver answering in ${o.receiverMs} ms)`, samples.notified),
      '',
      `Notified vs the baseline (plain and plain-b together, median ${ms(baseMedian)}): ratio of medians ${(withMedian / baseMedian).toFixed(2)}×, difference ${ms(withMedian - baseMedian)}; the baseline's own noise: A/A difference of medians ${ms(aa)}, interquartile range ${ms(q1)} – ${ms(q3)} (the notified median is ${verdict} it).`,
      `${idle.length > 0 ? `The outbox's cost on every run: the baseline's median ${ms(baseMedian)} against ${ms(median(idle))} with the outbox idle (${(baseMedian / median(idle)).toFixed(2)}×). ` : ''}Deliveries answered while measuring: ${sent.toLocaleString('en-US')} in ${seconds.toFixed(1)} s (${(sent / seconds).toFixed(1)}/s; at most ${receiver.maxInFlight()} in flight at the receiver); pending before each notified run: median ${median(pendingSeen)}. Then, no runs starting, the ${left.toLocaleString('en-US')} left drained in ${drainSeconds.toFixed(1)} s (${(drained / drainSeconds).toFixed(1)}/s).`,
    ];
    const table = lines.join('\n');
    console.log(`\n${table}\n`);
    if (o.writeDoc && !failed) writeDocSection('## Notifications beside runs (bench/notifications.ts)', 'bench/notifications.ts', await forDoc(table));
  } catch (error) {
    printOutputs();
    throw error;
  } finally {
    await stop();
    await receiver.close();
  }
  if (failed) process.exitCode = 1;
}

/** The block formatted as prettier formats docs/benchmarks.md (aligned tables, a blank line after the start marker), so the doc stays lint-clean. */
async function forDoc(text: string): Promise<string> {
  const doc = join(import.meta.dirname, '..', 'docs', 'benchmarks.md');
  return `\n${(await format(text, { ...(await resolveConfig(doc)), parser: 'markdown' })).trimEnd()}`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
