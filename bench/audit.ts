/**
 * What writing the audit event costs a pipeline update (issue 16, Performance: at most 10 %).
 *
 * One process holds the real context (SQLite in WAL mode in a fresh data folder) and two API
 * servers on loopback that differ in one thing only: one's pipelines service writes the audit
 * event in the update's transaction (as `ansflow serve` does), the other's is the same service
 * without an audit log. autocannon, in a separate process, sends `PUT /api/pipelines/<id>/` with
 * a new description each time (so every event has a diff), alternating between the two servers
 * for several rounds so that noise from other work on the machine falls on both alike. The servers
 * run in this process and autocannon in another, so this process's CPU time per update
 * (process.cpuUsage) is the server's, the figure a busy machine disturbs least.
 *
 * On a shared machine even that drifts by tens of percent between rounds, more than the event
 * costs, so the update is also measured without the network: the same PUT injected into each
 * server (Fastify's inject: routing, authentication, validation, the service, the transaction).
 * Three servers (without the audit log; with the transaction but no event written; with the
 * event) take short runs of calls in turn, in a rotating order, so that load from elsewhere falls
 * on the three alike; per round the three runs' CPU per update are compared: the verdict is the
 * median of those paired differences, with their quartiles as the spread. Beside time, a figure the load cannot move: the WAL pages each update writes (SQLite's
 * automatic checkpoint off, the WAL emptied before each side's run and its size read after).
 *
 *   node --import tsx bench/audit.ts [--rounds 3] [--duration 5] [--connections 10] [--no-doc]
 */
import { statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { apiServer, openAuditBench, seedAuditedPipeline, serviceWith, transactionOnlyAudit, UPDATE_BODY } from './audit-servers.js';
import { writeDocSection } from './bench-server.js';
import { parseLoadOptions, type LoadOptions } from './load-options.js';
import { ascending, median, percentile } from './stats.js';
import { loadWithUniqueBodies } from './unique-bodies.js';

const TARGET_ADDED = 0.1;
/** Injected: rounds in which each server takes a run of calls in turn (after a warm-up). */
const INJECTED_BLOCKS = 16;
const INJECTED_CALLS = 100;
const INJECTED_WARMUP = 300;
/** Updates per side for the WAL count. */
const WAL_UPDATES = 300;

interface Result {
  /** This process's (the servers') CPU time per answered request, in microseconds. */
  cpuUs: number;
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  errors: number;
  non2xx: number;
}

async function load(url: string, token: string, body: string, o: LoadOptions): Promise<Result> {
  const start = process.cpuUsage();
  const r = await cannon(url, token, body, o);
  const used = process.cpuUsage(start);
  return { ...r, cpuUs: r.requests.total > 0 ? (used.user + used.system) / r.requests.total : 0 };
}

/** Each request's body gets its own description ('[<id>]' replaced), so each update changes a field. */
const cannon = (url: string, token: string, body: string, o: LoadOptions) =>
  loadWithUniqueBodies<Omit<Result, 'cpuUs'>>({
    url,
    method: 'PUT',
    connections: o.connections,
    duration: o.duration,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body,
  });

async function main() {
  const o = parseLoadOptions(process.argv.slice(2), { rounds: 3, duration: 5, connections: 10 });
  const loadBefore = loadavg()[0]!;
  const { ctx, dataDir, close } = await openAuditBench('ansflow-bench-audit-');
  const servers = {
    with: await apiServer(ctx, ctx.pipelines),
    // The same service without an audit log.
    without: await apiServer(ctx, serviceWith(ctx, { audit: undefined })),
    // The same transaction and the same entry (views, diff) as the audited service, but no event written.
    tx: await apiServer(ctx, serviceWith(ctx, { audit: transactionOnlyAudit(ctx) })),
  };
  const urls = { with: await servers.with.listen({ host: '127.0.0.1', port: 0 }), without: await servers.without.listen({ host: '127.0.0.1', port: 0 }) };
  try {
    const { token, id } = await seedAuditedPipeline(urls.with);
    const body = UPDATE_BODY;

    // Warm-up on both (JIT, statement cache), then alternating measured rounds.
    for (const side of ['with', 'without'] as const) await load(`${urls[side]}/api/pipelines/${id}/`, token, body, { ...o, duration: 2 });
    const results: Record<'with' | 'without', Result[]> = { with: [], without: [] };
    for (let round = 0; round < o.rounds; round++) {
      const order = round % 2 === 0 ? (['without', 'with'] as const) : (['with', 'without'] as const);
      for (const side of order) {
        const r = await load(`${urls[side]}/api/pipelines/${id}/`, token, body, o);
        if (r.errors > 0 || r.non2xx > 0) throw new Error(`${side}: ${r.errors} errors, ${r.non2xx} non-2xx`);
        results[side].push(r);
        console.error(
          `round ${round + 1} ${side} audit: ${r.requests.average.toFixed(0)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, server CPU ${r.cpuUs.toFixed(0)} µs/update`,
        );
      }
    }
    // The same update injected (no sockets, no autocannon), alternating call by call.
    type Side = 'without' | 'tx' | 'with';
    const SIDES: readonly Side[] = ['without', 'tx', 'with'];
    let n = 0;
    const inject = async (side: Side) => {
      const r = await servers[side].inject({
        method: 'PUT',
        url: `/api/pipelines/${id}/`,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        payload: body.replace('[<id>]', `injected ${n++}`),
      });
      if (r.statusCode !== 200) throw new Error(`${side} (injected): ${r.statusCode} ${r.body}`);
    };
    for (let i = 0; i < INJECTED_WARMUP; i++) for (const side of SIDES) await inject(side);
    // Each side's calls are timed as a run of INJECTED_CALLS, not one by one: process.cpuUsage()
    // counts the whole process, and around a single call it also picks up time in lumps (with two
    // calls back to back, 50 µs on average in this process on a loaded machine, 2.5 µs in a bare
    // loop), which adds the same amount to every side and shrinks the difference.
    const blocks: Record<Side, number[]> = { without: [], tx: [], with: [] };
    for (let b = 0; b < INJECTED_BLOCKS; b++) {
      const k = b % SIDES.length;
      const order = b % 2 === 0 ? [...SIDES.slice(k), ...SIDES.slice(0, k)] : [...SIDES.slice(k), ...SIDES.slice(0, k)].reverse();
      for (const side of order) {
        const start = process.cpuUsage();
        for (let i = 0; i < INJECTED_CALLS; i++) await inject(side);
        const used = process.cpuUsage(start);
        blocks[side].push((used.user + used.system) / INJECTED_CALLS);
      }
    }
    const spread = (values: number[]) => {
      const s = ascending(values);
      return { median: median(s), q1: percentile(s, 25), q3: percentile(s, 75), min: s[0]!, max: s[s.length - 1]! };
    };
    const injectedSide = { without: spread(blocks.without), tx: spread(blocks.tx), with: spread(blocks.with) };
    const addedPairs = spread(blocks.with.map((w, b) => w / blocks.without[b]! - 1));
    const txPairs = spread(blocks.tx.map((t, b) => t / blocks.without[b]! - 1));
    const eventPairs = spread(blocks.with.map((w, b) => (w - blocks.tx[b]!) / blocks.without[b]!));
    const addedInjected = addedPairs.median;
    console.error(`injected, block means (µs): without ${blocks.without.map((x) => x.toFixed(0)).join(' ')}`);
    console.error(`injected, block means (µs): with    ${blocks.with.map((x) => x.toFixed(0)).join(' ')}`);

    // WAL pages per update: a count, not a time. The automatic checkpoint is off meanwhile, and the
    // WAL is emptied before each side's run, so its size after the run is what the run wrote.
    const walFile = join(dataDir, 'ansflow.db-wal');
    const pageSize = Number((await sql<{ page_size: number }>`pragma page_size`.execute(ctx.db.kysely)).rows[0]!.page_size);
    const frame = pageSize + 24;
    await sql`pragma wal_autocheckpoint = 0`.execute(ctx.db.kysely);
    const walPages: Record<Side, number> = { without: 0, tx: 0, with: 0 };
    for (const side of SIDES) {
      await sql`pragma wal_checkpoint(TRUNCATE)`.execute(ctx.db.kysely);
      if (statSync(walFile).size !== 0) throw new Error('the WAL was not emptied (another reader?)');
      for (let i = 0; i < WAL_UPDATES; i++) await inject(side);
      walPages[side] = (statSync(walFile).size - 32) / frame / WAL_UPDATES;
    }
    await sql`pragma wal_autocheckpoint = 1000`.execute(ctx.db.kysely);
    console.error(`WAL pages per update: without ${walPages.without.toFixed(2)}, transaction only ${walPages.tx.toFixed(2)}, with ${walPages.with.toFixed(2)}`);
    const events = await ctx.db.kysely
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('action', '=', 'pipeline.update')
      .executeTakeFirstOrThrow();
    const sum = (side: 'with' | 'without') => {
      const rs = results[side];
      const rps = rs.reduce((a, r) => a + r.requests.average, 0) / rs.length;
      const p50 = rs.reduce((a, r) => a + r.latency.p50, 0) / rs.length;
      const p99 = rs.reduce((a, r) => a + r.latency.p99, 0) / rs.length;
      const total = rs.reduce((a, r) => a + r.requests.total, 0);
      const cpuUs = median(rs.map((r) => r.cpuUs));
      return { rps, p50, p99, total, cpuUs, msPerUpdate: 1000 / rps };
    };
    const without = sum('without');
    const withAudit = sum('with');
    const added = withAudit.msPerUpdate / without.msPerUpdate - 1;
    const addedCpu = withAudit.cpuUs / without.cpuUs - 1;
    const pairs = results.with.map((r, i) => (r.cpuUs / results.without[i]!.cpuUs - 1) * 100);
    const signed = (n: number) => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(1)} %`;
    const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
    const loadAfter = loadavg()[0]!;
    const lines = [
      '',
      `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`node --import tsx bench/audit.ts --rounds ${o.rounds} --duration ${o.duration} --connections ${o.connections}\`.`,
      '',
      `Machine: ${cpus().length} cores, Node ${process.version}. One process serves both APIs (same database, SQLite WAL); autocannon runs in another. Rounds alternate between the two (${o.rounds} × ${o.duration} s each, after 2 s warm-up each); figures are the means over rounds, except the server's CPU time per update (this process's, autocannon runs in another), the median of the rounds. 1-minute load average before / after: ${loadBefore.toFixed(2)} / ${loadAfter.toFixed(2)}.`,
      '',
      '| `PUT /api/pipelines/<id>/` (2 steps, 2 variables, one secret) | req/s | ms per update (1 / req/s) | server CPU per update (µs) | p50 (ms) | p99 (ms) | requests |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      `| without the audit event | ${fmt(without.rps)} | ${fmt(without.msPerUpdate, 3)} | ${fmt(without.cpuUs)} | ${fmt(without.p50, 1)} | ${fmt(without.p99, 1)} | ${fmt(without.total)} |`,
      `| with the audit event (same transaction) | ${fmt(withAudit.rps)} | ${fmt(withAudit.msPerUpdate, 3)} | ${fmt(withAudit.cpuUs)} | ${fmt(withAudit.p50, 1)} | ${fmt(withAudit.p99, 1)} | ${fmt(withAudit.total)} |`,
      '',
      `Added cost of the audit event: ${(added * 100).toFixed(1)} % per update by throughput, ${(addedCpu * 100).toFixed(1)} % by the server's CPU per update (round pairs from ${signed(Math.min(...pairs))} to ${signed(Math.max(...pairs))}); over the network both are disturbed by the machine's load.`,
      '',
      `Injected (the same PUT through each server's routes without sockets; ${fmt(INJECTED_WARMUP)} warm-up calls each, then ${INJECTED_BLOCKS} rounds in which each of the three servers takes ${INJECTED_CALLS} calls in turn, in a rotating order; CPU time of this process per update over each run of calls, then the median over rounds with the quartiles):`,
      '',
      '| injected `PUT /api/pipelines/<id>/` | CPU per update (µs), median | quartiles (µs) | added to the unaudited update, median of the round pairs | quartiles of the pairs | WAL pages per update (4 KiB) |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      `| without the audit log (no views, no diff, no transaction) | ${fmt(injectedSide.without.median)} | ${fmt(injectedSide.without.q1)}–${fmt(injectedSide.without.q3)} | | | ${walPages.without.toFixed(2)} |`,
      `| transaction, views and diff, no event written | ${fmt(injectedSide.tx.median)} | ${fmt(injectedSide.tx.q1)}–${fmt(injectedSide.tx.q3)} | ${signed(txPairs.median * 100)} | ${signed(txPairs.q1 * 100)} to ${signed(txPairs.q3 * 100)} | ${walPages.tx.toFixed(2)} |`,
      `| with the audit event (as served) | ${fmt(injectedSide.with.median)} | ${fmt(injectedSide.with.q1)}–${fmt(injectedSide.with.q3)} | ${signed(addedPairs.median * 100)} | ${signed(addedPairs.q1 * 100)} to ${signed(addedPairs.q3 * 100)} | ${walPages.with.toFixed(2)} |`,
      '',
      `Added cost of the audit event, injected: ${(addedInjected * 100).toFixed(1)} % of the unaudited update's CPU (median of ${INJECTED_BLOCKS} rounds' pairs, quartiles ${signed(addedPairs.q1 * 100)} to ${signed(addedPairs.q3 * 100)}, blocks from ${signed(addedPairs.min * 100)} to ${signed(addedPairs.max * 100)}; target ≤ ${TARGET_ADDED * 100} %: ${addedPairs.q3 <= TARGET_ADDED ? 'met, upper quartile included' : addedInjected <= TARGET_ADDED ? 'met by the median, not by the upper quartile' : 'missed'}), of which the event's write ${signed(eventPairs.median * 100)} and the transaction with the views and diff ${signed(txPairs.median * 100)}. WAL pages per update: ${walPages.without.toFixed(2)} without, ${walPages.with.toFixed(2)} with the event (${WAL_UPDATES} updates each, automatic checkpoint off). ${fmt(Number(events.n))} \`pipeline.update\` events were written by the audited server.`,
    ];
    const text = lines.join('\n');
    console.log(text);
    if (o.writeDoc) writeDocSection('## Audit log cost (bench/audit.ts)', 'bench/audit.ts', text);
  } finally {
    await servers.with.close();
    await servers.without.close();
    await servers.tx.close();
    await close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
