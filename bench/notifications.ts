/**
 * Notifications never slow a run (issue 13, Performance): trigger → first step of a one-step
 * pipeline whose project has no notification channels, against the same pipeline in a project
 * whose webhook channel has a backlog of pending deliveries to a slow receiver (it answers each
 * after 200 ms), side by side in one run of this script: rounds alternate between the two, and
 * before each "with backlog" round the backlog is topped up to its size, so the outbox is busy
 * sending (at its concurrency) the whole time. Each of those runs adds its own delivery too.
 *
 * Measured from this process' clock before the POST to the step's stored `started_at` (same
 * machine, millisecond precision).
 *
 *   node --import tsx bench/notifications.ts [--rounds N] [--backlog N] [--receiver-ms MS] [--database-url postgres://…]
 *
 * The server runs in this process (test/support/api-harness.ts: the real API with its outbox,
 * worker and sandbox; SQLite unless --database-url). Prints a table; exits non-zero only when a run
 * failed, never because of the figures.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { startApi, type Harness } from '../test/support/api-harness.js';
import { isFinalStatus } from '../test/support/run-status.js';
import { waitFor } from '../test/support/wait.js';
import { notificationsOf } from '../src/runtime/notifications.js';
import { ascending, median, percentile } from './stats.js';

let rounds = 30;
let backlog = 1000;
let receiverMs = 200;
let databaseUrl: string | null = null;
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i];
  if (arg === '--rounds') rounds = Number(process.argv[++i]);
  else if (arg === '--backlog') backlog = Number(process.argv[++i]);
  else if (arg === '--receiver-ms') receiverMs = Number(process.argv[++i]);
  else if (arg === '--database-url') databaseUrl = process.argv[++i] ?? null;
  else throw new Error(`unknown argument ${arg}`);
}

const STEP = { name: 'first', type: 'shell_command', config: { command: 'true' } };

/** A receiver that answers every request after `delayMs`, counting them. */
async function slowReceiver(delayMs: number) {
  let answered = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        answered++;
        res.writeHead(200).end('ok');
      }, delayMs),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    answered: () => answered,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function toFirstStep(h: Harness, token: string, pipelineId: number): Promise<number> {
  const t0 = Date.now();
  const r = await h.request('POST', `/api/pipelines/${pipelineId}/run/`, { token, body: {} });
  if (r.status !== 201) throw new Error(`trigger failed: ${r.status} ${r.text}`);
  const run = await waitFor(async () => {
    const d = await h.request('GET', `/api/pipeline-runs/${r.json.id}/`, { token });
    return isFinalStatus(d.json.status) ? d.json : undefined;
  }, 120_000);
  if (run.status !== 'success') throw new Error(`run ${run.id} ended ${run.status}: ${run.error_reason}`);
  return Date.parse(run.steps[0].started_at) - t0;
}

const ms = (v: number) => `${v.toFixed(0)} ms`;

async function main() {
  const receiver = await slowReceiver(receiverMs);
  const h = await startApi({ workspaceRetentionHours: 0, ...(databaseUrl ? { databaseUrl } : {}) });
  try {
    const token = await h.login();
    const post = async (path: string, body: unknown) => {
      const r = await h.request('POST', path, { token, body });
      if (r.status !== 201) throw new Error(`${path}: ${r.status} ${r.text}`);
      return r.json;
    };
    const quiet = await post('/api/projects/', { name: 'no-channels' });
    const busy = await post('/api/projects/', { name: 'with-backlog' });
    const plain = (await post('/api/pipelines/', { name: 'plain', project: quiet.id, steps: [STEP] })).id as number;
    const notified = (await post('/api/pipelines/', { name: 'notified', project: busy.id, steps: [STEP] })).id as number;
    const channel = await post('/api/notification-channels/', {
      name: 'slow',
      project: busy.id,
      kind: 'webhook',
      events: ['run_succeeded', 'run_failed'],
      config: { url: receiver.url },
      secret: 'bench-secret',
    });
    const repo = notificationsOf(h.ctx).repository;
    const db = h.ctx.db.kysely;
    const pending = async () =>
      Number(
        (
          await db
            .selectFrom('notification_deliveries')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('outcome', '=', 'pending')
            .executeTakeFirstOrThrow()
        ).n,
      );
    let made = 0;
    const topUp = async () => {
      const missing = backlog - (await pending());
      const at = new Date().toISOString();
      for (let i = 0; i < missing; i++)
        await repo.enqueue({
          channelId: channel.id,
          runId: null,
          event: 'test',
          occurrence: `bench:${made++}`,
          payload: {
            event: 'test',
            occurred_at: at,
            project: { id: busy.id, name: busy.name },
            pipeline: null,
            run: null,
            environment: null,
            summary: 'backlog',
          },
          at,
        });
      notificationsOf(h.ctx).outbox.wake();
    };

    // Warm up both (first sandbox, first queries).
    await toFirstStep(h, token, plain);
    await toFirstStep(h, token, notified);
    const without: number[] = [];
    const withBacklog: number[] = [];
    const pendingSeen: number[] = [];
    const answeredBefore = receiver.answered();
    const started = Date.now();
    for (let i = 0; i < rounds; i++) {
      without.push(await toFirstStep(h, token, plain));
      await topUp();
      pendingSeen.push(await pending());
      withBacklog.push(await toFirstStep(h, token, notified));
    }
    const seconds = (Date.now() - started) / 1000;
    const sent = receiver.answered() - answeredBefore;

    const row = (name: string, values: number[]) => {
      const sorted = ascending(values);
      return `| ${name} | ${values.length} | ${ms(median(values))} | ${ms(percentile(sorted, 95))} | ${ms(sorted[sorted.length - 1]!)} |`;
    };
    const table = [
      `Trigger → first step, ${rounds} rounds alternating; backlog ${backlog} pending deliveries to a receiver answering after ${receiverMs} ms`,
      `(${databaseUrl ? 'PostgreSQL' : 'SQLite'}, one process; ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}; outbox concurrency ${notificationsOf(h.ctx).outbox.timing.concurrency})`,
      '',
      '| Scenario | Runs | Median | p95 | Max |',
      '| --- | ---: | ---: | ---: | ---: |',
      row('no channels', without),
      row(`${backlog} pending to a slow receiver`, withBacklog),
      '',
      `Deliveries answered while measuring: ${sent} in ${seconds.toFixed(1)} s (${(sent / seconds).toFixed(1)}/s); pending before each backlog run: median ${median(pendingSeen)}.`,
      `Median difference: ${ms(median(withBacklog) - median(without))}.`,
    ].join('\n');
    console.log(table);
  } finally {
    await h.close();
    await receiver.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
