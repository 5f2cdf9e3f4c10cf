/**
 * The audit event's cost with less spread than bench/audit.ts (issue 16: at most 10 % of a pipeline
 * update). The same PUT injected into two servers on one context (the pipelines service with and
 * without its audit log, bench/audit-servers.ts), in many short rounds; each round gives both sides
 * a short run of calls, in alternating order (ABBA), and the verdict is taken from the rounds'
 * paired ratios.
 *
 * The time counted is the MAIN THREAD's CPU time, read from /proc/thread-self/schedstat (the
 * scheduler's run time of the calling thread, in nanoseconds), not the process's: process.cpuUsage
 * also counts V8's GC and compiler helper threads and libuv's pool, whose work lands in whichever
 * round is running when they wake, and it has a 1–4 ms granularity on this kernel. The update runs
 * entirely on the main thread (routing, the service, better-sqlite3 is synchronous), so that is
 * what it costs there; the GC helper threads' share is left out on both sides alike.
 *
 * Reported: per side the median CPU per update; the added cost as the median of the rounds' ratios
 * (with/without − 1) with its quartiles and a bootstrap 95 % interval of that median, and as the
 * ratio of the totals (the sums over all rounds) with its own bootstrap interval. process.cpuUsage
 * beside it, measured over the same runs, shows what the thread-only figure removes.
 *
 *   node --import tsx bench/audit-cpu.ts [--rounds 200] [--calls 20] [--warmup 300] [--sides without,with]
 *
 * Sides: `without` (no audit log), `with` (as served), and `tx`: the same transaction, views and
 * diff with a statement that writes nothing in the event INSERT's place.
 *
 * Instructions instead of time (`--marks`): under valgrind's callgrind, which counts the
 * instructions every thread executes, the load of the machine cannot move the figure at all.
 * The rounds run as above, and before each side's run of calls (and after the last) the bench
 * calls process.resourceUsage(), which nothing else here calls; callgrind dumps its counts on
 * entering that function, so each dump file holds one run of calls (`bench/audit-callgrind.sh`
 * runs it and reads the dumps). Slow: about 1 s per update under valgrind, so few rounds.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { apiServer, AUDITED_PIPELINE, openAuditBench, serviceWith, transactionOnlyAudit, UPDATE_BODY } from './audit-servers.js';
import { ascending, bootstrap, median, percentile } from './stats.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '200' },
    calls: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '300' },
    sides: { type: 'string', default: 'without,with' },
    marks: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
  },
});
const ROUNDS = Number(args.rounds);
const CALLS = Number(args.calls);
const WARMUP = Number(args.warmup);

/** This thread's CPU time in nanoseconds (first field of schedstat). */
const threadNs = (): number => Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ', 1)[0]);
const processUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function main() {
  const loadBefore = loadavg()[0]!;
  const { ctx, close } = await openAuditBench('ansflow-audit-cpu-');
  const services = {
    without: () => serviceWith(ctx, { audit: undefined }),
    tx: () => serviceWith(ctx, { audit: transactionOnlyAudit(ctx) }),
    with: () => ctx.pipelines,
  };
  type Side = keyof typeof services;
  const sides = args.sides.split(',') as Side[];
  for (const side of sides) if (!services[side]) throw new Error(`unknown side ${side}`);
  const servers = {} as Record<Side, Awaited<ReturnType<typeof apiServer>>>;
  for (const side of sides) servers[side] = await apiServer(ctx, services[side]());
  try {
    const first = servers[sides[0]!];
    const login = await first.inject({ method: 'POST', url: '/api/auth/login/', payload: { username: 'admin', password: 'admin123' } });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${(login.json() as { access: string }).access}` };
    const created = await first.inject({ method: 'POST', url: '/api/pipelines/', headers, payload: JSON.stringify(AUDITED_PIPELINE) });
    if (created.statusCode !== 201) throw new Error(`seed failed: ${created.statusCode} ${created.body}`);
    const id = (created.json() as { id: number }).id;
    let n = 0;
    const inject = async (side: Side) => {
      const r = await servers[side].inject({ method: 'PUT', url: `/api/pipelines/${id}/`, headers, payload: UPDATE_BODY.replace('[<id>]', String(n++)) });
      if (r.statusCode !== 200) throw new Error(`${side}: ${r.statusCode} ${r.body}`);
    };
    for (let i = 0; i < WARMUP; i++) for (const side of sides) await inject(side);

    if (args.marks) {
      const order: Side[] = [];
      for (let round = 0; round < ROUNDS; round++)
        for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
          process.resourceUsage(); // callgrind: --dump-before=node::ResourceUsage*
          order.push(side);
          for (let i = 0; i < CALLS; i++) await inject(side);
        }
      process.resourceUsage();
      // The order of the runs, one per dump after the first (start-up and warm-up).
      console.log(`marks: ${CALLS} ${order.join(',')}`);
      return;
    }

    const thread = Object.fromEntries(sides.map((s) => [s, [] as number[]])) as Record<Side, number[]>;
    const proc = Object.fromEntries(sides.map((s) => [s, [] as number[]])) as Record<Side, number[]>;
    for (let round = 0; round < ROUNDS; round++) {
      // ABBA: the order flips every round, so a drift within a round falls on both sides alike.
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
        const p0 = processUs();
        const t0 = threadNs();
        for (let i = 0; i < CALLS; i++) await inject(side);
        const t1 = threadNs();
        const p1 = processUs();
        thread[side].push((t1 - t0) / 1000 / CALLS);
        proc[side].push((p1 - p0) / CALLS);
      }
    }

    const base = sides[0]!;
    const seed = Number(args.seed);
    const pct = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} %`;
    console.log(
      `${ROUNDS} rounds × ${CALLS} calls per side (ABBA), ${WARMUP} warm-up calls per side; load average ${loadBefore.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`,
    );
    console.log(
      '| side | clock | CPU per update (µs), median of rounds | added to ' +
        base +
        ': median of round ratios | its quartiles | its 95 % interval (bootstrap) | ratio of totals | its 95 % interval |',
    );
    console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const [clock, data] of [
      ['main thread', thread],
      ['process', proc],
    ] as const) {
      for (const side of sides) {
        const a = data[side];
        const b = data[base];
        const ratios = a.map((x, i) => x / b[i]! - 1);
        const sorted = ascending(ratios);
        const medianRatio = (picks: number[]) => median(picks.map((i) => ratios[i]!));
        const totalRatio = (picks: number[]) => {
          let sa = 0;
          let sb = 0;
          for (const i of picks) {
            sa += a[i]!;
            sb += b[i]!;
          }
          return sa / sb - 1;
        };
        const all = ratios.map((_, i) => i);
        const [lo, hi] = bootstrap(ratios.length, medianRatio, seed);
        const [tlo, thi] = bootstrap(ratios.length, totalRatio, seed + 1);
        console.log(
          side === base
            ? `| ${side} | ${clock} | ${median(a).toFixed(1)} | | | | | |`
            : `| ${side} | ${clock} | ${median(a).toFixed(1)} | ${pct(median(ratios))} | ${pct(percentile(sorted, 25))} to ${pct(percentile(sorted, 75))} | ${pct(lo)} to ${pct(hi)} | ${pct(totalRatio(all))} | ${pct(tlo)} to ${pct(thi)} |`,
        );
      }
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
