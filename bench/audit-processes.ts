/**
 * The audit event's cost over the network with each side in a process of its own (issue 16: at
 * most 10 % of a pipeline update), the measurement the others could not settle. bench/audit.ts
 * serves both sides from one process (their code shares V8's feedback and heap) and lets
 * autocannon share the 2 cores with them; its round pairs spread over 20–40 points. Here each
 * server is its own process (as in production), pinned to core 1 (`taskset`, where there are two
 * cores), the sides' runs alternate (ABBA) for many short rounds, and each round gives the pair of
 * CPU times per request of the two server processes (utime + stime from /proc/<pid>/stat). Every
 * update sends a new description (autocannon's API with a body per request, bench/unique-bodies.ts),
 * so every event carries a diff; a check reads the newest events' diffs before measuring.
 *
 * autocannon runs on the servers' core by default. On another core (`--client-core other`, how
 * this bench ran before 2026-12-02 17:40) the server's answer wakes autocannon across cores: over
 * loopback the receiver's wake-up runs in the sending server's system call, and on this VM an idle
 * core is woken by an interprocessor interrupt, paid more often the more often autocannon waits,
 * i.e. the slower the server (perf: `_raw_spin_unlock_irqrestore` under the answer's `writev`,
 * 21 µs per update unaudited, 32 µs audited). That cost belongs to neither
 * side's work and is not paid where clients are on other machines. V8 compiles each process its
 * own way, so sides measured in one pair of processes carry that pair's offset: `--pairs` starts
 * fresh processes that many times and splits the rounds among them. Reported: medians per side,
 * each pair's median, and the median of all rounds' ratios with its quartiles and a bootstrap 95 %
 * interval.
 *
 *   node --import tsx bench/audit-processes.ts [--rounds 12] [--pairs 3] [--client-core same|other] [--duration 5] [--connections 10]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseLoadOptions, type LoadOptions } from './load-options.js';
import { ascending, bootstrap, median, percentile } from './stats.js';
import { loadWithUniqueBodies } from './unique-bodies.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const TARGET = 0.1;
/** The core the servers run on (autocannon too, by default: see the header). */
const SERVER_CORE = 1;
type Side = 'without' | 'with';

interface Served {
  url: string;
  token: string;
  body: string;
  pid: number;
}

const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return cpus().length >= 2;
  } catch {
    return false;
  }
})();
/** `command args` pinned to `core` where taskset and two cores exist. */
const pinned = (core: number, command: string, args: string[]): [string, string[]] =>
  hasTaskset ? ['taskset', ['-c', String(core), command, ...args]] : [command, args];

const TICK_US = 1_000_000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
/** The process's user + system CPU time in microseconds (/proc/<pid>/stat fields 14 and 15). */
function cpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

async function serve(side: Side): Promise<{ child: ChildProcess; served: Served }> {
  const [command, args] = pinned(SERVER_CORE, process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'audit-process-server.ts'), side]);
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the ${side} server exited (${code}) before it served`)));
  });
  return { child, served: JSON.parse(first) as Served };
}

/** One autocannon run against a server (pinned to `core`), each update a new description; answers the requests it completed. */
async function cannon(s: Served, seconds: number, connections: number, core: number): Promise<number> {
  const result = await loadWithUniqueBodies<{ requests: { total: number }; non2xx: number; errors: number }>({
    url: s.url,
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${s.token}` },
    body: s.body,
    connections,
    duration: seconds,
    under: hasTaskset ? ['taskset', '-c', String(core)] : [],
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors from ${s.url}`);
  return result.requests.total;
}

/** The measured events must be real changes: the newest events each show the description changed. */
async function expectDiffs(s: Served): Promise<void> {
  const response = await fetch(new URL('/api/audit-events/?action=pipeline.update', s.url), { headers: { authorization: `Bearer ${s.token}` } });
  const events = ((await response.json()) as { results: { diff: Record<string, unknown> | null }[] }).results.slice(0, 20);
  if (events.length === 0 || events.some((e) => !e.diff?.description))
    throw new Error(`the audited updates changed nothing (newest events' diffs: ${JSON.stringify(events.slice(0, 3).map((e) => e.diff))})`);
}

/** This bench's own flags, taken out before the shared load options are read. */
function ownOptions(argv: string[]): { pairs: number; sameCore: boolean; rest: string[] } {
  const rest: string[] = [];
  let pairs = 3;
  let sameCore = true;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--pairs') {
      pairs = Number(argv[++i]);
      if (!Number.isInteger(pairs) || pairs < 1) throw new Error('--pairs needs a positive integer');
    } else if (argv[i] === '--client-core') {
      const where = argv[++i];
      if (where !== 'same' && where !== 'other') throw new Error('--client-core is same or other');
      sameCore = where === 'same';
    } else rest.push(argv[i]!);
  }
  return { pairs, sameCore, rest };
}

/** One pair of fresh server processes: warm-up, then `rounds` ABBA rounds; answers each round's CPU per request of each side. */
async function measurePair(rounds: number, o: LoadOptions, clientCore: number): Promise<Record<Side, number[]>> {
  const sides: Side[] = ['without', 'with'];
  const servers = { without: await serve('without'), with: await serve('with') };
  try {
    for (const side of sides) await cannon(servers[side].served, 3, o.connections, clientCore); // warm-up (JIT, statement cache)
    await expectDiffs(servers.with.served);
    const us: Record<Side, number[]> = { without: [], with: [] };
    for (let round = 0; round < rounds; round++) {
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
        const { served } = servers[side];
        const before = cpuUs(served.pid);
        const requests = await cannon(served, o.duration, o.connections, clientCore);
        us[side].push((cpuUs(served.pid) - before) / requests);
      }
    }
    return us;
  } finally {
    for (const side of sides) servers[side].child.kill('SIGTERM');
  }
}

async function main() {
  const own = ownOptions(process.argv.slice(2));
  const o = parseLoadOptions(own.rest, { rounds: 12, duration: 5, connections: 10 });
  const clientCore = own.sameCore ? SERVER_CORE : 0;
  const loadBefore = loadavg()[0]!;
  const us: Record<Side, number[]> = { without: [], with: [] };
  const pairMedians: number[] = [];
  const perPair = Math.ceil(o.rounds / own.pairs);
  for (let pair = 0; pair < own.pairs; pair++) {
    const measured = await measurePair(perPair, o, clientCore);
    us.without.push(...measured.without);
    us.with.push(...measured.with);
    pairMedians.push(median(measured.with.map((w, i) => w / measured.without[i]! - 1)));
  }
  const ratios = us.with.map((w, i) => w / us.without[i]! - 1);
  const sorted = ascending(ratios);
  const [lo, hi] = bootstrap(ratios.length, (picks) => median(picks.map((i) => ratios[i]!)), 1);
  const pct = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} %`;
  const pinning = !hasTaskset
    ? 'not pinned (no taskset or one core)'
    : own.sameCore
      ? `servers and autocannon on core ${SERVER_CORE}`
      : `servers on core ${SERVER_CORE}, autocannon on core 0`;
  console.log(
    [
      `${own.pairs} pairs of server processes × ${perPair} rounds × ${o.duration} s per side (ABBA), ${o.connections} connections, ${pinning}; load average ${loadBefore.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`,
      '',
      '| `PUT /api/pipelines/<id>/`, each side its own process | server CPU per update (µs), median of rounds | added: median of round ratios | quartiles | bootstrap 95 % interval |',
      '| --- | ---: | ---: | ---: | ---: |',
      `| without the audit log | ${median(us.without).toFixed(1)} | | | |`,
      `| with the audit event | ${median(us.with).toFixed(1)} | ${pct(median(ratios))} | ${pct(percentile(sorted, 25))} to ${pct(percentile(sorted, 75))} | ${pct(lo)} to ${pct(hi)} |`,
      '',
      `Each pair's median: ${pairMedians.map(pct).join(', ')}. Rounds' ratios: ${sorted.map(pct).join(', ')}.`,
      `Target ≤ ${TARGET * 100} %: ${hi <= TARGET ? 'met (the whole interval)' : median(ratios) <= TARGET ? 'met by the median, not by the whole interval' : 'missed'}.`,
    ].join('\n'),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
