/**
 * Artifact storage throughput: a 500 MB file stored into the filesystem ArtifactStore (hashing it
 * on the way, fsync before it is published) and downloaded back out of it (to a file), against `cp`
 * of the same file on the same disk. Rounds alternate, so load and the page cache hit both alike.
 * Target (issue 14): at least 70% of cp's throughput.
 *
 *   node --import tsx bench/artifacts.ts [--mb 500] [--rounds 3] [--no-doc]
 *
 * Prints one table; writes it into the "Artifact storage (bench/artifacts.ts)" section of docs/benchmarks.md.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { loadavg, tmpdir } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { FsArtifactStore } from '../src/artifacts/fs-artifact-store.js';
import { median } from './stats.js';
import { writeDocSection } from './bench-server.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const MB = arg('--mb', 500);
const ROUNDS = arg('--rounds', 3);
const writeDoc = !process.argv.includes('--no-doc');

// On the disk the data folder lives on (the repository's disk here), not a tmpfs.
const root = mkdtempSync(join(process.env.ANSFLOW_BENCH_DIR ?? tmpdir(), 'ansflow-bench-artifacts-'));
const source = join(root, 'source.bin');
const chunk = randomBytes(1024 * 1024);
const out = createWriteStream(source);
for (let i = 0; i < MB; i++) out.write(Buffer.from(chunk.map((b) => b ^ i)));
await new Promise<void>((resolve) => out.end(resolve));
const bytes = statSync(source).size;

const time = async (work: () => Promise<void> | void) => {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
};
const sync = () => spawnSync('sync');

const cp: number[] = [];
const cpSync: number[] = [];
const store: number[] = [];
const download: number[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    const artifacts = new FsArtifactStore(join(root, `store-${round}`));
    sync();
    cp.push(await time(() => void spawnSync('cp', [source, join(root, `cp-${round}.bin`)])));
    sync();
    cpSync.push(
      await time(() => void spawnSync('sh', ['-c', `cp "${source}" "${join(root, `cps-${round}.bin`)}" && sync "${join(root, `cps-${round}.bin`)}"`])),
    );
    sync();
    store.push(await time(async () => void (await artifacts.put('runs/1/artifacts/1/0', createReadStream(source, { highWaterMark: 1024 * 1024 })))));
    sync();
    download.push(
      await time(async () => {
        const body = await artifacts.get('runs/1/artifacts/1/0');
        await pipeline(body!, createWriteStream(join(root, `down-${round}.bin`)));
      }),
    );
    rmSync(join(root, `cp-${round}.bin`));
    rmSync(join(root, `cps-${round}.bin`));
    rmSync(join(root, `down-${round}.bin`));
    rmSync(join(root, `store-${round}`), { recursive: true });
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

const mbps = (ms: number) => bytes / 1024 / 1024 / (ms / 1000);
const rows: [string, number][] = [
  ['cp', median(cp)],
  ['cp + sync', median(cpSync)],
  ['store (put: SHA-256 + fsync + rename)', median(store)],
  ['download (get to a file)', median(download)],
];
const base = median(cp);
const lines = [
  `${MB} MB file, ${ROUNDS} rounds alternated, medians; load average ${loadavg()[0]!.toFixed(2)} at the end.`,
  '',
  '| operation | time (ms) | MB/s | throughput vs cp |',
  '|---|---:|---:|---:|',
  ...rows.map(([name, ms]) => `| ${name} | ${ms.toFixed(0)} | ${mbps(ms).toFixed(0)} | ${((base / ms) * 100).toFixed(0)}% |`),
  '',
  `Target: store and download each at least 70% of cp's throughput.`,
];
console.log(lines.join('\n'));
if (writeDoc)
  writeDocSection('## Artifact storage (bench/artifacts.ts)', 'bench/artifacts.ts', ['`node --import tsx bench/artifacts.ts`', '', ...lines].join('\n'));
