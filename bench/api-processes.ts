/**
 * `ansflow serve --processes N` (issue 15, API throughput): the list of 1,000 pipelines
 * (`GET /api/pipelines/?page_size=20`, the request bench/api.ts measures at about 2,900 req/s on
 * one process) served by 1, 2, … processes, side by side in one run.
 *
 * Each N: the real server as a child (`serve --processes N`, sources through tsx or `--main
 * dist/cli/main.js`) on a fresh PostgreSQL database with Redis (more than one process needs it,
 * so every N uses the same topology), 1,000 pipelines created through the API, then autocannon in
 * a separate process: `--connections` connections, 2 s warm-up, `--duration` s measured.
 * On a machine with fewer free cores than N + 1 (the load generator needs one) the scaling
 * shown is the machine's limit, not the server's: the table says how many cores there were and
 * the load average.
 *
 *   node --import tsx bench/api-processes.ts [--processes 1,2] [--duration 10] [--connections 50] [--main dist/cli/main.js] [--no-doc]
 */
import { spawn } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '../test/support/postgres.js';
import { connectTestRedis } from '../test/support/redis.js';
import { startBenchServer, writeDocSection, type BenchServer } from './bench-server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const AUTOCANNON = join(ROOT, 'node_modules', 'autocannon', 'autocannon.js');
const PIPELINES = 1000;

const o = { processes: [1, 2], duration: 10, connections: 50, main: undefined as string | undefined, writeDoc: true };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i]!;
  if (a === '--processes') o.processes = process.argv[++i]!.split(',').map(Number);
  else if (a === '--duration') o.duration = Number(process.argv[++i]);
  else if (a === '--connections') o.connections = Number(process.argv[++i]);
  else if (a === '--main') o.main = resolve(process.argv[++i]!);
  else if (a === '--no-doc') o.writeDoc = false;
  else throw new Error(`unknown argument ${a}`);
}

interface Result {
  processes: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  load: number;
}

function autocannon(url: string, token: string, seconds: number): Promise<any> {
  return new Promise((done, reject) => {
    const child = spawn(
      process.execPath,
      [AUTOCANNON, '--json', '-n', '-c', String(o.connections), '-d', String(seconds), '-H', `Authorization=Bearer ${token}`, url],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`exit code ${code}`);
        done(JSON.parse(out.trim().split('\n').pop()!));
      } catch (error) {
        reject(new Error(`autocannon failed (${String(error)}):\n${err}`));
      }
    });
  });
}

async function seed(server: BenchServer, token: string) {
  let next = 0;
  const worker = async () => {
    while (next < PIPELINES) {
      const n = next++;
      const r = await fetch(`${server.apiUrl}/api/pipelines/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          name: `seed-${String(n).padStart(4, '0')}`,
          steps: [
            { name: 'Build', type: 'shell_command', config: { command: 'make' } },
            { name: 'Test', type: 'shell_command', config: { command: 'make test' } },
          ],
        }),
      });
      if (r.status !== 201) throw new Error(`seeding: ${r.status} ${await r.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

async function measure(processes: number): Promise<Result> {
  const database = await createTestDatabase();
  const redis = await connectTestRedis();
  if (!database || !redis) throw new Error('this benchmark needs PostgreSQL and Redis');
  const server = await startBenchServer(
    { ANSFLOW_DATABASE_URL: database.url, ANSFLOW_REDIS_URL: redis.url, ANSFLOW_REDIS_PREFIX: redis.prefix, ANSFLOW_METRICS_LISTEN: 'off' },
    { main: o.main, serveArgs: ['--processes', String(processes)] },
  );
  try {
    const token = await server.login();
    await seed(server, token);
    const url = `${server.apiUrl}/api/pipelines/?page_size=20`;
    await autocannon(url, token, 2);
    const r = await autocannon(url, token, o.duration);
    const result = {
      processes,
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      errors: r.errors + r.timeouts,
      non2xx: r.non2xx,
      load: loadavg()[0]!,
    };
    console.log(`  ${processes} process(es): ${Math.round(result.rps)} req/s, p99 ${result.p99} ms, load ${result.load.toFixed(1)}`);
    return result;
  } catch (error) {
    console.error(server.output().slice(-4000));
    throw error;
  } finally {
    await server.stop();
    await redis.cleanup();
    await database.drop();
  }
}

async function main() {
  const results: Result[] = [];
  for (const n of o.processes) results.push(await measure(n));
  const base = results[0]!.rps;
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} with \`node --import tsx bench/api-processes.ts --processes ${o.processes.join(',')} --duration ${o.duration} --connections ${o.connections}${o.main ? ' --main dist/cli/main.js' : ''}\`: ${o.main ? 'the build' : 'sources through tsx'}, PostgreSQL and Redis, ${PIPELINES.toLocaleString('en-US')} pipelines, autocannon (${o.connections} connections) in its own process on the same machine; ${availableParallelism()} cores, ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}.`,
    '',
    '| processes | req/s | vs 1 process | p50 (ms) | p99 (ms) | errors / non-2xx | load average (1 min) after |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.processes} | ${Math.round(r.rps).toLocaleString('en-US')} | ${(r.rps / base).toFixed(2)}x | ${r.p50} | ${r.p99} | ${r.errors} / ${r.non2xx} | ${r.load.toFixed(1)} |`,
    ),
  ];
  const table = lines.join('\n');
  console.log(`\n${table}\n`);
  if (o.writeDoc) writeDocSection('## Serving from several processes (bench/api-processes.ts)', 'bench/api-processes.ts', table);
  if (results.some((r) => r.errors > 0 || r.non2xx > 0)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
