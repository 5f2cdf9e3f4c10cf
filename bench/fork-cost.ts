/**
 * How the cost of spawning a step grows with the size of the process that spawns it (fork copies
 * the parent's page tables). Baseline: a small Node process; then the same process holding memory.
 *   node --import tsx bench/fork-cost.ts
 */
import { spawn } from 'node:child_process';

const once = () =>
  new Promise<void>((resolve) => {
    const child = spawn('bash', ['-e', '-c', 'true'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.on('close', () => resolve());
  });

async function perSpawnMs(n = 100): Promise<number> {
  for (let i = 0; i < 20; i++) await once();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await once();
  return Number(process.hrtime.bigint() - start) / n / 1e6;
}

const rows: Array<[string, number, number]> = [];
rows.push(['baseline (small process)', process.memoryUsage().rss / 1e6, await perSpawnMs()]);
const hold: unknown[] = [];
for (const extraMb of [150, 450]) {
  while (process.memoryUsage().rss / 1e6 < rows[0]![1] + extraMb)
    hold.push(
      Buffer.alloc(1024 * 1024, 1),
      Array.from({ length: 20000 }, (_, j) => ({ j })),
    );
  rows.push([`holding +${extraMb} MB`, process.memoryUsage().rss / 1e6, await perSpawnMs()]);
}
console.log('| process | RSS MB | ms per spawn of `bash -e -c true` | vs baseline |');
console.log('| --- | ---: | ---: | ---: |');
for (const [label, rss, ms] of rows) console.log(`| ${label} | ${rss.toFixed(0)} | ${ms.toFixed(2)} | ${(ms / rows[0]![2]).toFixed(2)}x |`);
void hold;
