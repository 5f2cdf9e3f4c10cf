/**
 * The audited pipeline update taken apart (issue 16): the same PUT injected into servers whose
 * pipelines service differs only in how it wraps the change, so each part's cost shows on its own:
 *
 *   none        the change alone (no transaction, no views, no diff: the unaudited service)
 *   views       no transaction, but the event's entry (two views and their diff) built
 *   ktx         Kysely's db.transaction(), no entry built
 *   ktxViews    Kysely's db.transaction() with the entry built (what the audit log does, minus the event's INSERT)
 *
 * No event is written by any of them (bench/audit.ts measures the event's write). Two kinds of
 * figures: counts the machine's load cannot move (promises created per update, counted with an
 * async hook over 20 calls; heap allocated per update, the growth of the used heap over 100 calls
 * after a full GC, with a young generation large enough that no GC runs meanwhile), and CPU time
 * per update (this process, runs of calls rotating between the sides; medians of the round pairs
 * against `none`).
 *
 *   node --expose-gc --max-semi-space-size=256 --import tsx bench/audit-parts.ts [--rounds 30] [--calls 200] [--sides none,views,...]
 */
import { createHook } from 'node:async_hooks';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import type { PipelinesRepository } from '../src/store/pipelines-repository.js';
import type { RecordEvent } from '../src/services/audit/audit-log.js';
import type { AuditEntry } from '../src/domain/audit.js';
import { apiServer, AUDITED_PIPELINE, openAuditBench, serviceWith, UPDATE_BODY } from './audit-servers.js';
import { ascending, median, percentile } from './stats.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '30' },
    calls: { type: 'string', default: '200' },
    sides: { type: 'string', default: 'none,views,ktx,ktxViews' },
  },
});
const ROUNDS = Number(args.rounds);
const CALLS = Number(args.calls);

type Work = (pipelines: PipelinesRepository, record: RecordEvent) => Promise<unknown>;
type Change = (work: Work) => Promise<unknown>;

async function main() {
  const loadBefore = loadavg()[0]!;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc (and --max-semi-space-size=256 for the allocation figure)');
  const { ctx, close } = await openAuditBench('ansflow-audit-parts-');
  const repo = (ctx.pipelines as unknown as { pipelines: PipelinesRepository }).pipelines;
  const nothing: RecordEvent = async () => {};
  const buildEntry: RecordEvent = async (entry) => {
    if (typeof entry === 'function') (entry as () => AuditEntry)();
  };
  const kysely =
    (record: RecordEvent): Change =>
    (work) =>
      ctx.db.kysely.transaction().execute((tx) => work(repo.in(tx), record));
  const changes: Record<string, Change> = {
    none: (work) => work(repo, nothing),
    views: (work) => work(repo, buildEntry),
    ktx: kysely(nothing),
    ktxViews: kysely(buildEntry),
  };
  const sides = args.sides.split(',');
  for (const side of sides) if (!changes[side]) throw new Error(`unknown side ${side}`);
  const servers: Record<string, Awaited<ReturnType<typeof apiServer>>> = {};
  for (const side of sides) {
    // The same service; only its private `change` (how a change is wrapped) differs.
    servers[side] = await apiServer(ctx, serviceWith(ctx, { change: changes[side] }));
  }
  try {
    const first = servers[sides[0]!]!;
    const token = (
      (await first.inject({ method: 'POST', url: '/api/auth/login/', payload: { username: 'admin', password: 'admin123' } })).json() as { access: string }
    ).access;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const created = await first.inject({ method: 'POST', url: '/api/pipelines/', headers, payload: JSON.stringify(AUDITED_PIPELINE) });
    if (created.statusCode !== 201) throw new Error(`seed failed: ${created.statusCode} ${created.body}`);
    const id = (created.json() as { id: number }).id;
    const body = UPDATE_BODY;
    let n = 0;
    const inject = async (side: string) => {
      const r = await servers[side]!.inject({ method: 'PUT', url: `/api/pipelines/${id}/`, headers, payload: body.replace('[<id>]', String(n++)) });
      if (r.statusCode !== 200) throw new Error(`${side}: ${r.statusCode} ${r.body}`);
    };
    for (let i = 0; i < 300; i++) for (const side of sides) await inject(side);

    let promises = 0;
    const hook = createHook({ init: (_id, type) => void (type === 'PROMISE' && promises++) });
    const counts: Record<string, { promises: number; kib: number }> = {};
    for (const side of sides) {
      promises = 0;
      hook.enable();
      for (let i = 0; i < 20; i++) await inject(side);
      hook.disable();
      const perUpdate = promises / 20;
      const kib: number[] = [];
      for (let r = 0; r < 3; r++) {
        gc();
        gc();
        const before = getHeapStatistics().used_heap_size;
        for (let i = 0; i < 100; i++) await inject(side);
        kib.push((getHeapStatistics().used_heap_size - before) / 100 / 1024);
      }
      counts[side] = { promises: perUpdate, kib: median(ascending(kib)) };
    }

    const cpu: Record<string, number[]> = Object.fromEntries(sides.map((s) => [s, [] as number[]]));
    for (let b = 0; b < ROUNDS; b++) {
      const k = b % sides.length;
      const rotated = [...sides.slice(k), ...sides.slice(0, k)];
      for (const side of b % 2 === 0 ? rotated : rotated.reverse()) {
        const start = process.cpuUsage();
        for (let i = 0; i < CALLS; i++) await inject(side);
        const used = process.cpuUsage(start);
        cpu[side]!.push((used.user + used.system) / CALLS);
      }
    }
    const base = cpu[sides[0]!]!;
    console.log(`load average ${loadBefore.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}; ${ROUNDS} rounds x ${CALLS} calls per side`);
    console.log(
      `| side | promises per update | heap allocated per update (KiB) | CPU per update (µs), median | added to ${sides[0]}, median of round pairs (µs) | quartiles of the pairs (µs) |`,
    );
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const side of sides) {
      const pairs = ascending(cpu[side]!.map((x, i) => x - base[i]!));
      console.log(
        `| ${side} | ${counts[side]!.promises.toFixed(0)} | ${counts[side]!.kib.toFixed(1)} | ${median(ascending(cpu[side]!)).toFixed(0)} | ${median(pairs).toFixed(1)} | ${percentile(pairs, 25).toFixed(1)} to ${percentile(pairs, 75).toFixed(1)} |`,
      );
    }
  } finally {
    for (const server of Object.values(servers)) await server.close();
    await close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
