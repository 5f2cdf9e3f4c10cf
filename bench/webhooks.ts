/**
 * Webhook ingestion benchmark (issue 4, Performance).
 *
 * Starts the real server (`src/cli/main.ts serve` through tsx, SQLite in a fresh data folder) as
 * a child process on loopback and drives the gateway with autocannon from a second process
 * (this file with `--load`), each request a signed GitHub push with its own X-GitHub-Delivery:
 *   no-match   deliveries for a repository no pipeline uses, `--requests` of them;
 *              target ≥ 1,000 accepted per second, and every accepted one stored;
 *   match      `--amount` deliveries for a matching pipeline, each delivery id sent twice
 *              (the copies race each other on 50 connections); exactly one run per delivery id.
 * Prints a table and writes it into docs/benchmarks.md (its own section only).
 *
 *   node --import tsx bench/webhooks.ts [--requests 15000] [--connections 50] [--amount 2000] [--no-doc]
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { availableParallelism, cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchServer, writeDocSection, type BenchServer } from './bench-server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SECRET = 'bench-webhook-secret';
const FIXTURE = join(ROOT, '..', 'shared', 'fixtures', 'webhooks', 'github', 'push.go-scm.json');

interface LoadResult {
  requests: number;
  rps: number;
  statuses: Record<string, number>;
  errors: number;
  p50: number;
  p99: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Load mode (the separate process): autocannon with a unique delivery id per request. */
async function load(): Promise<void> {
  const spec = JSON.parse(process.argv[process.argv.indexOf('--load') + 1]!) as {
    url: string;
    body: string;
    connections: number;
    duration?: number;
    amount?: number;
    dup: boolean;
    prefix: string;
  };
  // autocannon ships no types; it is loaded by path so the type checker does not need them.
  const { default: autocannon } = (await import(join(ROOT, 'node_modules', 'autocannon', 'autocannon.js'))) as { default: (o: object) => Promise<any> };
  const signature = 'sha256=' + createHmac('sha256', SECRET).update(spec.body).digest('hex');
  // `dup`: two identical generators race each other, so every delivery id arrives twice at about
  // the same time (on different connections).
  const instance = () => {
    let n = 0;
    return autocannon({
      url: spec.url,
      method: 'POST',
      connections: spec.dup ? Math.max(1, Math.floor(spec.connections / 2)) : spec.connections,
      ...(spec.duration ? { duration: spec.duration } : { amount: spec.amount }),
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signature },
      body: spec.body,
      // Only per-request entries are rebuilt for each request (a top-level setupRequest is not).
      requests: [
        {
          setupRequest: (req: { headers: Record<string, string> }) => {
            req.headers = { ...req.headers, 'x-github-delivery': `${spec.prefix}-${n++}` };
            return req;
          },
        },
      ],
    });
  };
  const results = await Promise.all(spec.dup ? [instance(), instance()] : [instance()]);
  const statuses: Record<string, number> = {};
  for (const result of results)
    for (const [code, count] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = (statuses[code] ?? 0) + (count as { count: number }).count;
  const sum = (f: (r: any) => number) => results.reduce((a, r) => a + f(r), 0);
  const out: LoadResult = {
    requests: sum((r) => r.requests.total),
    rps: sum((r) => r.requests.average),
    statuses,
    errors: sum((r) => r.errors + r.timeouts),
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
  };
  process.stdout.write(JSON.stringify(out));
}

function runLoad(spec: object): Promise<LoadResult> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--load', JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: ROOT,
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('exit', (code) => (code === 0 ? done(JSON.parse(out) as LoadResult) : reject(new Error(`load generator exited with ${code}: ${out}`))));
  });
}

async function api(server: BenchServer, token: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(server.apiUrl + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return r.json();
}

async function main(): Promise<void> {
  const total = arg('--requests', 15000);
  const connections = arg('--connections', 50);
  const amount = arg('--amount', 2000);
  const payload = JSON.parse(readFileSync(FIXTURE, 'utf8'));
  const rows: string[][] = [];
  let failed = false;

  // 1. No pipeline matches: pure ingestion (verify, parse, normalise, match, store, answer).
  const server = await startBenchServer({ ANSFLOW_GITHUB_WEBHOOK_SECRET: SECRET, ANSFLOW_WEBHOOK_RATE_LIMIT: '1000000000' });
  try {
    const token = await server.login();
    const body = JSON.stringify({
      ...payload,
      repository: {
        ...payload.repository,
        clone_url: 'https://github.com/nobody/unused.git',
        html_url: 'https://github.com/nobody/unused',
        ssh_url: 'git@github.com:nobody/unused.git',
        git_url: 'git://github.com/nobody/unused.git',
        svn_url: 'https://github.com/nobody/unused',
      },
    });
    await runLoad({ url: `${server.gatewayUrl}/api/v1/webhooks/github`, body, connections, duration: 2, dup: false, prefix: 'warmup' });
    const before = (await api(server, token, 'GET', '/api/webhook-deliveries/?page_size=1')).count as number;
    // A fixed number of requests, so every answer can be accounted for.
    const started = Date.now();
    const r = await runLoad({ url: `${server.gatewayUrl}/api/v1/webhooks/github`, body, connections, amount: total, dup: false, prefix: 'nomatch' });
    const seconds = (Date.now() - started) / 1000;
    const stored = (await api(server, token, 'GET', '/api/webhook-deliveries/?page_size=1')).count - before;
    const accepted = r.statuses['202'] ?? 0;
    if (stored !== accepted || r.errors > 0 || accepted !== total) failed = true;
    rows.push([
      'no matching pipeline',
      `${total} req`,
      String(r.requests),
      `${Math.round(r.rps)} (${Math.round(total / seconds)} incl. start-up)`,
      `${accepted} / ${stored}`,
      '-',
      `${r.p50} / ${r.p99}`,
      r.rps >= 1000 && stored === accepted ? 'yes' : 'NO',
    ]);

    // 2. A matching pipeline, every delivery sent twice concurrently: one run per delivery id.
    const pipeline = await api(server, token, 'POST', '/api/pipelines/', {
      name: 'bench-webhook',
      repository_url: 'https://github.com/Codertocat/Hello-World.git',
      branch: 'master',
      trigger_events: ['push'],
      steps: [{ name: 'noop', type: 'shell_command', config: { command: 'true' } }],
    });
    const m = await runLoad({
      url: `${server.gatewayUrl}/api/v1/webhooks/github`,
      body: readFileSync(FIXTURE, 'utf8'),
      connections,
      amount,
      dup: true,
      prefix: 'match',
    });
    const runs = (await api(server, token, 'GET', `/api/pipelines/${pipeline.id}/runs/?page_size=1`)).count as number;
    const created = m.statuses['202'] ?? 0;
    const duplicates = m.statuses['200'] ?? 0;
    // Exactly one run per distinct delivery id: runs = first deliveries, and every request answered.
    const exact = runs === created && created + duplicates === m.requests && m.requests === amount * 2 && m.errors === 0;
    if (!exact) failed = true;
    rows.push([
      'matching pipeline, each id twice',
      `${amount * 2} req`,
      String(m.requests),
      String(Math.round(m.rps)),
      `${created} new + ${duplicates} dup`,
      `${runs} (one per id: ${created})`,
      `${m.p50} / ${m.p99}`,
      exact ? 'yes' : 'NO',
    ]);
  } finally {
    await server.stop();
  }

  const header = ['scenario', 'load', 'requests', 'req/s', 'accepted / stored', 'runs', 'latency p50 / p99 ms', 'target met'];
  const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'} × ${availableParallelism()}, Node ${process.version}; server and load generator share the machine; ${connections} connections.`;
  console.log(`\n${table}\n\n${machine}`);
  if (!process.argv.includes('--no-doc')) writeDocSection('## Webhook ingestion (bench/webhooks.ts)', 'bench/webhooks.ts', `${table}\n\n${machine}`);
  if (failed) {
    console.error('a delivery was lost, duplicated or refused');
    process.exit(1);
  }
}

if (process.argv.includes('--load')) await load();
else await main();
