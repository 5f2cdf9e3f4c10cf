/**
 * How the cost of spawning a step grows with the size of the process that spawns it (fork copies
 * the parent's page tables), and how the step spawner takes that cost out of the server.
 * For each size of this process: `bash -e -c true` spawned directly, then launched through the
 * built SpawnerLauncher (dist/, the one the server uses), each to exit with its output read.
 *   npm run build && node --import tsx bench/fork-cost.ts
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProcessLauncher } from '../src/engine/launch/launcher.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUILT = join(ROOT, 'dist', 'engine', 'launch', 'spawner-launcher.js');
if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` first`);
const { SpawnerLauncher } = (await import(BUILT)) as typeof import('../src/engine/launch/spawner-launcher.js');

const direct = () =>
  new Promise<void>((done) => {
    const child = spawn('bash', ['-e', '-c', 'true'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.on('close', () => done());
  });

const launcher: ProcessLauncher = new SpawnerLauncher();
const viaSpawner = async () => {
  const launched = await launcher.launch({ file: 'bash', args: ['-e', '-c', 'true'], cwd: ROOT, env: { PATH: process.env.PATH ?? '' } });
  const ended = new Promise((done) => launched.output.once('close', done));
  launched.output.resume();
  await Promise.all([launched.exit, ended]);
};

async function msPer(once: () => Promise<void>, n = 100): Promise<number> {
  for (let i = 0; i < 20; i++) await once();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await once();
  return Number(process.hrtime.bigint() - start) / n / 1e6;
}

const rows: Array<[string, number, number, number]> = [];
const measure = async (label: string) => rows.push([label, process.memoryUsage().rss / 1e6, await msPer(direct), await msPer(viaSpawner)]);
await measure('baseline (small process)');
const hold: unknown[] = [];
for (const extraMb of [150, 450]) {
  while (process.memoryUsage().rss / 1e6 < rows[0]![1] + extraMb)
    hold.push(
      Buffer.alloc(1024 * 1024, 1),
      Array.from({ length: 20000 }, (_, j) => ({ j })),
    );
  await measure(`holding +${extraMb} MB`);
}
await launcher.close();
console.log('| process | RSS MB | ms per direct spawn of `bash -e -c true` | vs baseline | ms per launch through the spawner | vs baseline |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
const [, , direct0, spawner0] = rows[0]!;
for (const [label, rss, d, s] of rows)
  console.log(`| ${label} | ${rss.toFixed(0)} | ${d.toFixed(2)} | ${(d / direct0).toFixed(2)}x | ${s.toFixed(2)} | ${(s / spawner0).toFixed(2)}x |`);
void hold;
