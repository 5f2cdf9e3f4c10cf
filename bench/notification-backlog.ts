/**
 * What the two notification benchmarks (bench/notifications.ts, bench/notifications-where.ts) share:
 * a receiver that answers slowly, the channel that posts to it, a backlog of pending deliveries
 * kept topped up in the database, and trigger → first step of one run.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { isFinalStatus } from '../test/support/run-status.js';
import { api } from '../test/scale/support.js';

/** A receiver that answers every request after `delayMs`, counting them and the most in flight at once. */
export async function slowReceiver(delayMs: number) {
  let answered = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        answered++;
        inFlight--;
        res.writeHead(200).end('ok');
      }, delayMs),
    );
  });
  server.maxConnections = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    answered: () => answered,
    maxInFlight: () => maxInFlight,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Milliseconds from just before the trigger to the first step's stored start (the run must succeed). */
export async function toFirstStep(base: string, token: string, pipelineId: number): Promise<number> {
  const t0 = Date.now();
  const r = await api(base, 'POST', `/api/pipelines/${pipelineId}/run/`, token, {});
  if (r.status !== 201) throw new Error(`trigger failed: ${r.status} ${r.text}`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const d = await api(base, 'GET', `/api/pipeline-runs/${r.json.id}/`, token);
    if (d.status === 200 && isFinalStatus(d.json.status)) {
      if (d.json.status !== 'success') throw new Error(`run ${d.json.id} ended ${d.json.status}: ${d.json.error_reason}`);
      return Date.parse(d.json.steps[0].started_at) - t0;
    }
    if (Date.now() > deadline) throw new Error(`run ${r.json.id} not finished after 120 s`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

type Post = (path: string, body: unknown) => Promise<{ id: number; name: string }>;

/** POSTs as the admin to the first API process; anything but 201 fails the bench. */
export function adminPost(base: string, token: string): Post {
  return async (path, body) => {
    const r = await api(base, 'POST', path, token, body);
    if (r.status !== 201) throw new Error(`${path}: ${r.status} ${r.text}`);
    return r.json;
  };
}

/**
 * A webhook channel of `project` posting run results to `receiverUrl`, and a backlog of `size`
 * pending deliveries to it: `topUp()` inserts what is missing in one statement (what
 * NotificationsRepository.enqueue writes, for many rows), `pending()` counts what is left.
 */
export async function slowChannelBacklog(client: pg.Client, post: Post, project: { id: number; name: string }, receiverUrl: string, size: number) {
  const channel = await post('/api/notification-channels/', {
    name: 'slow',
    project: project.id,
    kind: 'webhook',
    events: ['run_succeeded', 'run_failed'],
    config: { url: receiverUrl },
    secret: 'bench-secret',
  });
  const pending = async () => Number((await client.query(`SELECT count(*) AS n FROM notification_deliveries WHERE outcome = 'pending'`)).rows[0].n);
  const payload = JSON.stringify({
    event: 'test',
    occurred_at: new Date().toISOString(),
    project: { id: project.id, name: project.name },
    pipeline: null,
    run: null,
    environment: null,
    summary: 'backlog',
  });
  let made = 0;
  const topUp = async () => {
    const missing = size - (await pending());
    if (missing <= 0) return;
    const at = new Date().toISOString();
    await client.query(
      `INSERT INTO notification_deliveries (channel_id, run_id, event, occurrence, payload, outcome, attempts, next_attempt_at, claimed_by, claim_expires_at, last_error, last_status_code, attempt_log, created_at, delivered_at)
       SELECT $1, NULL, 'test', 'bench:' || n, $2, 'pending', 0, $3, NULL, NULL, NULL, NULL, '[]', $3, NULL FROM generate_series($4::int, $5::int) AS n`,
      [channel.id, payload, at, made, made + missing - 1],
    );
    made += missing;
  };
  return { channel, pending, topUp };
}
