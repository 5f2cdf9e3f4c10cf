/**
 * The audit event's cost over the network with each side in a process of its own (issue 16: at
 * most 10 % of a pipeline update), the measurement the others could not settle. bench/audit.ts
 * serves both sides from one process (their code shares V8's feedback and heap) and lets
 * autocannon share the 2 cores with them; its round pairs spread over 20–40 points. Here each
 * server is its own process (as in production), pinned to core 1 with autocannon pinned to core 0
 * (`taskset`, where there are two cores), the sides' runs alternate (ABBA) for many short rounds,
 * and each round gives the pair of CPU times per request of the two server processes (utime +
 * stime from /proc/<pid>/stat). Reported: medians per side and the median of the rounds' ratios
 * with its quartiles and a bootstrap 95 % interval.
 *
 *   node --import tsx bench/audit-processes.ts [--rounds 12] [--duration 5] [--connections 10]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseLoadOptions } from './load-options.js';
import { ascending, bootstrap, median, percentile } from './stats.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const TARGET = 0.1;
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
  const [command, args] = pinned(1, process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'audit-process-server.ts'), side]);
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the ${side} server exited (${code}) before it served`)));
  });
  return { child, served: JSON.parse(first) as Served };
}

/** One autocannon run against a server (pinned to core 0); answers the requests it completed. */
function cannon(s: Served, seconds: number, connections: number): number {
  const autocannon = join(ROOT, 'node_modules', '.bin', 'autocannon');
  const [command, args] = pinned(0, autocannon, [
    '-j',
    '-c',
    String(connections),
    '-d',
    String(seconds),
    '-m',
    'PUT',
    '-H',
    'Content-Type: application/json',
    '-H',
    `Authorization: Bearer ${s.token}`,
    '-b',
    s.body,
    s.url,
  ]);
  const result = JSON.parse(execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 16 * 1024 * 1024 })) as {
    requests: { total: number };
    non2xx: number;
    errors: number;
  };
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors from ${s.url}`);
  return result.requests.total;
}

async function main() {
  const o = parseLoadOptions(process.argv.slice(2), { rounds: 12, duration: 5, connections: 10 });
  const loadBefore = loadavg()[0]!;
  const sides: Side[] = ['without', 'with'];
  const servers = { without: await serve('without'), with: await serve('with') };
  try {
    for (const side of sides) cannon(servers[side].served, 3, o.connections); // warm-up (JIT, statement cache)
    const us: Record<Side, number[]> = { without: [], with: [] };
    for (let round = 0; round < o.rounds; round++) {
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
        const { served } = servers[side];
        const before = cpuUs(served.pid);
        const requests = cannon(served, o.duration, o.connections);
        us[side].push((cpuUs(served.pid) - before) / requests);
      }
    }
    const ratios = us.with.map((w, i) => w / us.without[i]! - 1);
    const sorted = ascending(ratios);
    const [lo, hi] = bootstrap(ratios.length, (picks) => median(picks.map((i) => ratios[i]!)), 1);
    const pct = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} %`;
    console.log(
      [
        `${o.rounds} rounds × ${o.duration} s per side (ABBA), ${o.connections} connections, ${hasTaskset ? 'servers on core 1, autocannon on core 0' : 'not pinned (no taskset or one core)'}; load average ${loadBefore.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`,
        '',
        '| `PUT /api/pipelines/<id>/`, each side its own process | server CPU per update (µs), median of rounds | added: median of round ratios | quartiles | bootstrap 95 % interval |',
        '| --- | ---: | ---: | ---: | ---: |',
        `| without the audit log | ${median(us.without).toFixed(1)} | | | |`,
        `| with the audit event | ${median(us.with).toFixed(1)} | ${pct(median(ratios))} | ${pct(percentile(sorted, 25))} to ${pct(percentile(sorted, 75))} | ${pct(lo)} to ${pct(hi)} |`,
        '',
        `Rounds' ratios: ${sorted.map(pct).join(', ')}. Target ≤ ${TARGET * 100} %: ${hi <= TARGET ? 'met (the whole interval)' : median(ratios) <= TARGET ? 'met by the median, not by the whole interval' : 'missed'}.`,
      ].join('\n'),
    );
  } finally {
    for (const side of sides) servers[side].child.kill('SIGTERM');
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
