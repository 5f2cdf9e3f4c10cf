/**
 * Build outputs, side by side in one run (issue 14's three targets):
 *   1. Artifact storage: a 500 MB file stored into the filesystem ArtifactStore (hashing it on the
 *      way, fsync before it is published: from its open file as artifacts are, and as a stream) and
 *      downloaded back out of it (into a file, as a stream, and over HTTP through the API's reply
 *      into curl), against `cp` and `cp + sync` of the same file on the same disk, with the parts
 *      of a put alone (SHA-256, fsync), SHA-256 in memory and by sha256sum and openssl (what this
 *      CPU hashes at: a store that verifies content cannot beat it) and curl's own copy (the HTTP
 *      client's ceiling). Beside them, the HTTP ceiling on this machine: nginx with sendfile and bare
 *      node:http servers (fs.createReadStream at 64 KiB, 1 MiB, 4 MiB) serving the same file to the
 *      same clients, and the API's route over a plain fs.ReadStream (what it sent before the store's
 *      stream reused its buffers: file-read-stream.ts).
 *      Target: at least 70% of cp's throughput.
 *   2. Cache restore: a node_modules-like tree of 50,000 small files packed as a cache and restored
 *      by unpackCache (GNU tar into a fresh folder, then moved in: tar-extract.ts), against
 *      `tar -xzf` of the same archive.
 *      Target: within 1.5x of tar.
 *   3. Snapshot overhead: a pipeline of 10 steps that each run 10 s and change 200 MB of files in
 *      total, through the engine with snapshots (each step is needed by the next) and without
 *      outputs. Target: snapshots add less than 5% to the wall time.
 * Rounds alternate the contenders, so load and the page cache hit both alike. --verbose prints
 * each contender's time in each round (stderr). --match: only the storage contenders whose names
 * match (with cp and cp + sync; never written to the docs).
 *
 *   node --import tsx bench/artifacts.ts [--mb 500] [--files 50000] [--steps 10] [--step-seconds 10]
 *                                        [--change-mb 200] [--rounds 3] [--only storage,cache,snapshot]
 *                                        [--small] [--no-doc] [--verbose] [--match <regex>]
 * --small: a quick check that it works (20 MB, 2,000 files, 3 steps of 1 s changing 6 MB, 1 round;
 * never written to the docs). Prints one table per part; a full run writes them into the "Artifact
 * storage (bench/artifacts.ts)" section of docs/benchmarks.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { pipeline } from 'node:stream/promises';
import Fastify from 'fastify';
import { FsArtifactStore } from '../src/artifacts/fs-artifact-store.js';
import { streamToFile } from '../src/artifacts/file-body.js';
import { sendDownload } from '../src/http/api/outputs-routes.js';
import { attachment } from '../src/http/api/content-disposition.js';
import { packCache, unpackCache } from '../src/engine/artifacts/cache-archive.js';
import { makeEngineHarness, makeSpec, runWith, shell } from '../test/support/engine-harness.js';
import { RecordedOutputs } from '../test/support/recorded-outputs.js';
import { median } from './stats.js';
import { writeDocSection } from './bench-server.js';

const small = process.argv.includes('--small');
const arg = (name: string, fallback: number, smallValue: number) => {
  const i = process.argv.indexOf(name);
  if (i < 0) return small ? smallValue : fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} needs a positive number`);
  return n;
};
const MB = arg('--mb', 500, 20);
const FILES = arg('--files', 50_000, 2_000);
const STEPS = arg('--steps', 10, 3);
const STEP_SECONDS = arg('--step-seconds', 10, 1);
const CHANGE_MB = arg('--change-mb', 200, 6);
const ROUNDS = arg('--rounds', 3, 1);
const onlyAt = process.argv.indexOf('--only');
const parts = new Set(onlyAt >= 0 ? (process.argv[onlyAt + 1] ?? '').split(',') : ['storage', 'cache', 'snapshot']);
const verbose = process.argv.includes('--verbose');
// --match <regex>: only the storage contenders whose names match (cp and cp + sync always run: the ratios need them).
const matchAt = process.argv.indexOf('--match');
const match = matchAt >= 0 ? new RegExp(process.argv[matchAt + 1] ?? '') : null;
const writeDoc = !process.argv.includes('--no-doc') && !small && onlyAt < 0 && !match;
const report: string[] = [];
// The storage part's contenders (declared before the parts run below).
const HASH_ONLY = 'SHA-256 of the file alone (no write)';
const HASH_MEMORY = 'SHA-256 in memory (node:crypto, 1 MiB updates, no read)';
const SHA256SUM = 'sha256sum of the file (coreutils)';
const OPENSSL_DGST = 'openssl dgst -sha256 of the file';
const PUT_FILE = 'store a file (putFile: kernel copy ∥ SHA-256, fsync, rename)';
const PUT_STREAM = 'store a stream (put: one pass, SHA-256, fsync, rename)';
const GET_TO_FILE = 'download to a file (getToFile: kernel copy)';
const GET_STREAM = 'download as a stream (get → streamToFile, 1 MiB writes)';
const FSYNC_ONLY = 'fsync of a fresh copy alone (after cp, untimed)';
const HTTP_GET = "download over HTTP (the API's reply of get; curl -o file)";
const HTTP_DISCARD = "the same over HTTP, discarded (curl -o /dev/null: the server's side)";
const HTTP_FAST_CLIENT = 'the same over HTTP, read by a client thread into one reused 1 MiB buffer';
const HTTP_PLAIN_STREAM = 'the same route over a plain fs.ReadStream of the object (fresh 1 MiB buffers), read by the client thread';
const CURL_FILE = "curl's own copy, no server (curl -o file of file://)";
// The ceiling of an HTTP download on this machine: servers that do nothing else, same file, same clients.
const NGINX_CURL = 'ceiling: nginx (sendfile on) into curl -o file';
const NGINX_FAST_CLIENT = 'ceiling: nginx (sendfile on), read by the client thread';
const bareNode = (kib: number) =>
  `ceiling: bare node:http, fs.createReadStream ${kib >= 1024 ? `${kib / 1024} MiB` : `${kib} KiB`} reads, read by the client thread`;
const BARE_NODE_KIB = [64, 1024, 4096];

/** The HTTP client thread (plain JavaScript: an eval'd worker is CommonJS and gets no loader). */
const FAST_CLIENT = `
const { parentPort } = require('node:worker_threads');
const net = require('node:net');
const buffer = Buffer.allocUnsafe(1024 * 1024);
parentPort.on('message', ({ port, path }) => {
  let received = 0;
  const socket = net.connect({ host: '127.0.0.1', port, onread: { buffer, callback: (n) => { received += n; return true; } } });
  socket.on('connect', () => socket.write('GET ' + path + ' HTTP/1.1\\r\\nHost: bench\\r\\nConnection: close\\r\\n\\r\\n'));
  socket.on('error', () => socket.destroy());
  socket.on('close', () => parentPort.postMessage(received));
});
`;

// On the disk the data folder lives on (the repository's disk here), not a tmpfs.
const root = mkdtempSync(join(process.env.ANSFLOW_BENCH_DIR ?? tmpdir(), 'ansflow-bench-artifacts-'));
const time = async (work: () => Promise<void> | void) => {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
};
const sync = () => spawnSync('sync');

/** The /proc/diskstats line of the device holding `path` (major:minor of its st_dev), if any. */
function diskStatsOf(path: string): (() => string | null) | null {
  const dev = statSync(path).dev;
  const major = ((dev >> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
  const minor = (dev & 0xff) | ((dev >> 12) & ~0xff & 0xfffff);
  const read = () => {
    try {
      const line = readFileSync('/proc/diskstats', 'utf8')
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .find((f) => Number(f[0]) === major && Number(f[1]) === minor);
      // Writes, sectors written, in flight, discards, sectors discarded, flushes.
      return line ? [7, 9, 11, 14, 16, 18].map((i) => line[i] ?? '').join(' ') : null;
    } catch {
      return null; // no /proc (not Linux): nothing to wait for
    }
  };
  return read() === null ? null : read;
}

/**
 * Waits until the disk under the bench's folder has had nothing in flight and has written,
 * discarded and flushed nothing for 500 ms (at most 5 s: on a busy machine other work keeps it
 * going). `sync` returns once the data is written, but the journal's commit and the discards of
 * the blocks just freed (ext4 mounted with `discard` here) may trail it; each contender starts
 * from the same idle disk.
 */
async function diskIdle(read: (() => string | null) | null): Promise<void> {
  if (!read) return;
  const deadline = Date.now() + 5000;
  let last = read();
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = read();
    const inFlight = Number(now?.split(' ')[2] ?? 0) > 0;
    if (now !== last || inFlight) quietSince = Date.now();
    else if (Date.now() - quietSince >= 500) return;
    last = now;
  }
}

try {
  if (parts.has('storage')) await storageBench();
  if (parts.has('cache')) await cacheBench();
  if (parts.has('snapshot')) await snapshotBench();
} finally {
  rmSync(root, { recursive: true, force: true });
}

report.push('', `Load average ${loadavg()[0]!.toFixed(2)} at the end.`);
console.log(report.join('\n'));
if (writeDoc)
  writeDocSection(
    '## Artifact storage (bench/artifacts.ts)',
    'bench/artifacts.ts',
    ['`node --import tsx bench/artifacts.ts` (storage, cache restore, snapshot overhead)', '', ...report].join('\n'),
  );

async function storageBench(): Promise<void> {
  const source = join(root, 'source.bin');
  const chunk = randomBytes(1024 * 1024);
  const out = createWriteStream(source);
  for (let i = 0; i < MB; i++) out.write(Buffer.from(chunk.map((b) => b ^ i)));
  await new Promise<void>((resolve) => out.end(resolve));
  const bytes = statSync(source).size;

  const times = new Map<string, number[]>();
  const disk = diskStatsOf(root);
  // The HTTP file download's path: the store's stream through the API's reply (headers, length,
  // piped to the socket), here on a bare Fastify with that one route, fetched by curl into a file.
  let artifacts = new FsArtifactStore(join(root, 'store-0'));
  const app = Fastify();
  app.get('/object', async (_request, reply) =>
    sendDownload(reply, (await artifacts.get('runs/1/artifacts/1/0'))!, 'application/octet-stream', attachment('object.bin'), bytes),
  );
  // The route as it was before the store's stream reused its buffers for HTTP: fs.ReadStream.
  app.get('/plain', async (_request, reply) =>
    sendDownload(
      reply,
      createReadStream(join(artifacts.location, 'runs/1/artifacts/1/0'), { highWaterMark: 1024 * 1024 }),
      'application/octet-stream',
      attachment('object.bin'),
      bytes,
    ),
  );
  const url = `${await app.listen({ host: '127.0.0.1', port: 0 })}/object`;
  const curl = (from: string, to: string) =>
    new Promise<void>((resolve, reject) =>
      spawn('curl', ['-sSf', '-o', to, from], { stdio: 'inherit' }).on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`curl exited ${code}`)))),
    );
  // A client that is not the bottleneck: a thread of its own reading the response into one reused
  // buffer (net's `onread`), discarding it; curl reads 16 KiB at a time.
  const client = new Worker(FAST_CLIENT, { eval: true });
  const { port } = app.server.address() as { port: number };
  const fetchDiscarding = (at = port, path = '/object') =>
    new Promise<void>((resolve, reject) => {
      client.once('message', (received: number) => (received >= bytes ? resolve() : reject(new Error(`the client got ${received} bytes`))));
      client.postMessage({ port: at, path });
    });
  // The ceilings: bare node:http servers streaming the file with fs.createReadStream (no framework,
  // no store), and nginx with sendfile (the kernel sends the page cache; nothing passes through
  // user space on the server's side), when it is installed.
  const bare = await Promise.all(
    BARE_NODE_KIB.map(async (kib) => {
      const server = createServer((_request, response) => {
        response.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes) });
        createReadStream(source, { highWaterMark: kib * 1024 }).pipe(response);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { kib, server, port: (server.address() as AddressInfo).port };
    }),
  );
  const nginx = await startNginx(root);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      artifacts = new FsArtifactStore(join(root, `store-${round}`));
      const out = (name: string) => join(root, `${name}-${round}.bin`);
      // The object the downloads read, stored before the timed part.
      const first = await open(source, 'r');
      await artifacts.putFile('runs/1/artifacts/1/0', first).finally(() => first.close());
      // A contender returns its own time when only a part of it is timed.
      type Contender = [string, () => Promise<number | void> | number | void];
      const all: Contender[] = [
        ['cp', () => void spawnSync('cp', [source, out('cp')])],
        ['cp + sync', () => void spawnSync('sh', ['-c', `cp "${source}" "${out('cps')}" && sync "${out('cps')}"`])],
        [
          // The durability a put adds, alone: flushing a file of this size that was just copied.
          FSYNC_ONLY,
          async () => {
            spawnSync('cp', [source, out('fs')]);
            const handle = await open(out('fs'), 'r');
            try {
              return await time(() => handle.sync());
            } finally {
              await handle.close();
            }
          },
        ],
        [
          // The floor under a put: the SHA-256 every stored object carries, alone (read into one
          // reused 1 MiB buffer, hashed, nothing written).
          HASH_ONLY,
          async () => {
            const hash = createHash('sha256');
            const handle = await open(source, 'r');
            const buffer = Buffer.allocUnsafe(1024 * 1024);
            try {
              for (let n; (n = (await handle.read(buffer, 0, buffer.length, null)).bytesRead) > 0;) hash.update(buffer.subarray(0, n));
            } finally {
              await handle.close();
            }
            hash.digest();
          },
        ],
        [
          // The hash alone with no file read at all: what this CPU's SHA-256 costs through node:crypto
          // (OpenSSL; SHA-NI where the CPU has it).
          HASH_MEMORY,
          () => {
            const hash = createHash('sha256');
            for (let i = 0; i < MB; i++) hash.update(chunk);
            hash.digest();
          },
        ],
        // The same file through other SHA-256 implementations (coreutils, OpenSSL's command line).
        [SHA256SUM, () => void spawnSync('sha256sum', [source])],
        [OPENSSL_DGST, () => void spawnSync('openssl', ['dgst', '-sha256', source])],
        [
          // An artifact's file, as collectArtifact stores it: from its open descriptor (kernel copy while hashing).
          PUT_FILE,
          async () => {
            const handle = await open(source, 'r');
            try {
              await artifacts.putFile('runs/1/artifacts/1/1', handle);
            } finally {
              await handle.close();
            }
          },
        ],
        // A stream (caches, snapshots, the S3 adapter's way): one pass, hashing as it writes.
        [PUT_STREAM, async () => void (await artifacts.put('runs/1/artifacts/1/2', createReadStream(source, { highWaterMark: 1024 * 1024 })))],
        [GET_TO_FILE, async () => void (await artifacts.getToFile('runs/1/artifacts/1/0', out('down')))],
        // The store's stream (1 MiB reads) into a file as the port's helper writes one (1 MiB writes).
        [GET_STREAM, async () => void (await streamToFile((await artifacts.get('runs/1/artifacts/1/0'))!, out('downs')))],
        [HTTP_GET, () => curl(url, out('http'))],
        [HTTP_DISCARD, () => curl(url, '/dev/null')],
        [HTTP_FAST_CLIENT, () => fetchDiscarding()],
        [HTTP_PLAIN_STREAM, () => fetchDiscarding(port, '/plain')],
        // What the client alone costs: curl copying the file with no server (its own small reads and writes).
        [CURL_FILE, () => curl(`file://${source}`, out('curl'))],
        ...(nginx
          ? ([
              [NGINX_CURL, () => curl(`http://127.0.0.1:${nginx.port}/source.bin`, out('nginx'))],
              [NGINX_FAST_CLIENT, () => fetchDiscarding(nginx.port, '/source.bin')],
            ] satisfies Contender[])
          : []),
        ...bare.map((b): Contender => [bareNode(b.kib), () => fetchDiscarding(b.port, '/')]),
      ];
      const contenders = all.filter(([name]) => !match || name === 'cp' || name === 'cp + sync' || match.test(name));
      // Every contender starts from the same state: the source and the downloads' object in the
      // page cache, the previous contender's output removed, everything flushed and the disk idle.
      // (Before, outputs piled up through a round, 6 GB of them, and were removed at its end, so a
      // contender's time depended on its place: cp, after curl's copy, was 1.1-1.6 s against
      // 0.2 s alone.) Each round still starts at another contender.
      const clearOutputs = async () => {
        for (const name of ['cp', 'cps', 'fs', 'down', 'downs', 'http', 'curl', 'nginx']) rmSync(out(name), { force: true });
        await artifacts.delete('runs/1/artifacts/1/1');
        await artifacts.delete('runs/1/artifacts/1/2');
      };
      for (let i = 0; i < contenders.length; i++) {
        const [name, work] = contenders[(i + round) % contenders.length]!;
        await clearOutputs();
        sync();
        await diskIdle(disk);
        let own: number | void = undefined;
        const whole = await time(async () => void (own = await work()));
        const ms = typeof own === 'number' ? own : whole;
        times.set(name, [...(times.get(name) ?? []), ms]);
        if (verbose) console.error(`round ${round + 1} #${i + 1} ${name}: ${ms.toFixed(0)} ms`);
      }
      await clearOutputs();
      rmSync(join(root, `store-${round}`), { recursive: true });
    }
  } finally {
    await client.terminate();
    await app.close();
    for (const b of bare) b.server.close();
    nginx?.stop();
    rmSync(source, { force: true });
  }

  const mbps = (ms: number) => bytes / 1024 / 1024 / (ms / 1000);
  const rows: [string, number][] = [...times].map(([name, list]) => [name, median(list)]);
  const base = median(times.get('cp')!);
  const durable = median(times.get('cp + sync')!);
  report.push(
    `**Storage**: a ${MB} MB file, ${ROUNDS} rounds, each starting at the next contender, each contender after the previous one's output was removed, \`sync\` and an idle disk; medians (range: fastest-slowest round).`,
    '',
    '| operation | time (ms) | range (ms) | MB/s | throughput vs cp | vs cp + sync |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map(([name, ms]) => {
      const list = times.get(name)!;
      const range = `${Math.min(...list).toFixed(0)}-${Math.max(...list).toFixed(0)}`;
      return `| ${name} | ${ms.toFixed(0)} | ${range} | ${mbps(ms).toFixed(0)} | ${((base / ms) * 100).toFixed(0)}% | ${((durable / ms) * 100).toFixed(0)}% |`;
    }),
    '',
    `Target: store and download each at least 70% of cp's throughput (a store also fsyncs: cp + sync is the like-for-like column).`,
    '',
  );
}

/**
 * nginx serving `dir` on a free loopback port with sendfile on (Debian's nginx-light is enough),
 * in the foreground as this user; null when there is no nginx.
 */
async function startNginx(dir: string): Promise<{ port: number; stop: () => void } | null> {
  if (spawnSync('nginx', ['-v']).error) return null;
  const free = createNetServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
  const port = (free.address() as AddressInfo).port;
  await new Promise((resolve) => free.close(resolve));
  const prefix = join(dir, 'nginx');
  mkdirSync(prefix);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${prefix};`).join(' ');
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `daemon off; master_process off; worker_processes 1; pid ${prefix}/pid; error_log ${prefix}/error.log;
events { worker_connections 16; }
http { access_log off; sendfile on; tcp_nopush on; ${temp}
  server { listen 127.0.0.1:${port}; root ${dir}; location / { default_type application/octet-stream; } } }
`,
  );
  const child = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: 'inherit' });
  for (let i = 0; i < 50; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/`).then(
      () => true,
      () => false,
    );
    if (up) return { port, stop: () => child.kill() };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill();
  throw new Error(`nginx did not start (see ${prefix}/error.log)`);
}

/** A node_modules-like tree: packages of ~50 small files (100 B – 4 KiB) two folders deep. */
function makeTree(dir: string, files: number): number {
  let bytes = 0;
  const made = new Set<string>();
  for (let i = 0; i < files; i++) {
    const pkg = join(dir, 'node_modules', `pkg-${Math.floor(i / 50)}`, i % 3 === 0 ? 'lib' : 'dist');
    if (!made.has(pkg)) mkdirSync(pkg, { recursive: true });
    made.add(pkg);
    const size = 100 + ((i * 7919) % 4000);
    writeFileSync(join(pkg, `file-${i}.js`), randomBytes(size / 2).toString('hex'));
    bytes += size;
  }
  return bytes;
}

async function cacheBench(): Promise<void> {
  const workspace = join(root, 'cache-source');
  const bytes = makeTree(workspace, FILES);
  const archive = join(root, 'cache.tgz');
  const packed = await packCache(workspace, ['node_modules']);
  await pipeline(packed.stream, createWriteStream(archive));
  rmSync(workspace, { recursive: true });
  const ours: number[] = [];
  const tar: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const a = join(root, `restore-ours-${round}`);
    const b = join(root, `restore-tar-${round}`);
    mkdirSync(a);
    mkdirSync(b);
    sync();
    ours.push(await time(async () => void (await unpackCache(createReadStream(archive), a))));
    sync();
    tar.push(await time(() => void spawnSync('tar', ['-xzf', archive, '-C', b])));
    rmSync(a, { recursive: true });
    rmSync(b, { recursive: true });
  }
  const ratio = median(ours) / median(tar);
  report.push(
    `**Cache restore**: ${FILES.toLocaleString('en')} files (${(bytes / 1024 / 1024).toFixed(0)} MB), archive ${(statSync(archive).size / 1024 / 1024).toFixed(1)} MB; ${ROUNDS} rounds alternated, medians.`,
    '',
    '| restore | time (ms) | vs tar |',
    '|---|---:|---:|',
    `| tar -xzf | ${median(tar).toFixed(0)} | 1.00x |`,
    `| unpackCache (tar into a fresh folder, moved in) | ${median(ours).toFixed(0)} | ${ratio.toFixed(2)}x |`,
    '',
    'Target: within 1.5x of tar.',
    '',
  );
  rmSync(archive);
}

async function snapshotBench(): Promise<void> {
  const perStep = Math.max(1, Math.round((CHANGE_MB * 1024) / STEPS)); // KiB each step writes
  // Each step runs STEP_SECONDS and writes its share of the changed files (incompressible bytes).
  const steps = Array.from({ length: STEPS }, (_, i) =>
    shell(`step-${i + 1}`, `sleep ${STEP_SECONDS} & mkdir -p out && head -c ${perStep}K /dev/urandom > out/step-${i + 1}.bin; wait`),
  );
  const withSnapshots: number[] = [];
  const without: number[] = [];
  let snapshotBytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const snapshots of [true, false]) {
      const h = makeEngineHarness();
      try {
        const outputs = new RecordedOutputs(new FsArtifactStore(join(root, `snapshots-${round}`)), undefined, {
          artifactBytes: 1 << 30,
          runArtifactBytes: 1 << 30,
          cacheBytes: 1 << 30,
          snapshotBytes: 64 * 1024 ** 3,
        });
        let outcome: Awaited<ReturnType<typeof runWith>>['outcome'] | undefined;
        const ms = await time(async () => void ({ outcome } = await runWith(h, makeSpec(steps), snapshots ? { outputs } : {})));
        if (outcome?.status !== 'success') throw new Error(`the pipeline ended ${outcome?.status}`);
        if (snapshots) {
          withSnapshots.push(ms);
          snapshotBytes = outputs.snapshots.reduce((sum, x) => sum + x.size, 0);
          if (outputs.snapshots.length !== STEPS - 1) throw new Error(`expected ${STEPS - 1} snapshots, got ${outputs.snapshots.length}`);
        } else without.push(ms);
      } finally {
        h.cleanup();
        rmSync(join(root, `snapshots-${round}`), { recursive: true, force: true });
      }
    }
  }
  const overhead = (median(withSnapshots) / median(without) - 1) * 100;
  report.push(
    `**Snapshot overhead**: ${STEPS} steps of ${STEP_SECONDS} s changing ${CHANGE_MB} MB in all (${(perStep / 1024).toFixed(1)} MB each), through the engine; ${ROUNDS} rounds alternated, medians; ${STEPS - 1} snapshots, ${(snapshotBytes / 1024 / 1024).toFixed(0)} MB stored in the last round.`,
    '',
    '| pipeline | wall time (ms) | vs without |',
    '|---|---:|---:|',
    `| without outputs | ${median(without).toFixed(0)} | — |`,
    `| snapshot after each step a later one needs | ${median(withSnapshots).toFixed(0)} | ${overhead >= 0 ? '+' : ''}${overhead.toFixed(1)}% |`,
    '',
    'Target: less than 5% added.',
  );
}
