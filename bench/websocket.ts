/**
 * WebSocket fan-out benchmark (issue 4, Performance).
 *
 * Starts the real server as a child process, then for each client count (default 1,000 and
 * 5,000) opens that many WebSocket clients on one run, from separate client processes (this file
 * with `--clients`), and lets the run go: its first step waits for a file the benchmark creates
 * once every client has its initial state, then `--steps` short steps produce status updates.
 * Every client records, for each pipeline_status_update, its arrival time minus the change's
 * time (`data.at`, set by the worker when the change happened; same machine, same clock).
 * Checks that every client got every update and the final status; prints median/p99 delivery.
 *
 *   node --import tsx bench/websocket.ts [--counts 1000,5000] [--steps 10] [--procs 2] [--no-doc]
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { startBenchServer, writeDocSection, type BenchServer } from './bench-server.js';
import { percentile } from './stats.js';

interface ClientReport {
  /** Per socket: number of status updates received, and whether it ended with the final status. */
  updates: number[];
  finals: number;
  latencies: number[];
  failed: number;
}

const option = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};

/** Client mode: opens `count` sockets, says "ready" once all have the initial state, reports at the end. */
async function clients(): Promise<void> {
  const { url, count } = JSON.parse(option('--clients', '{}')) as { url: string; count: number };
  const report: ClientReport = { updates: [], finals: 0, latencies: [], failed: 0 };
  let ready = 0;
  let closed = 0;
  const done = new Promise<void>((resolve) => {
    const open = (i: number) =>
      new Promise<void>((opened) => {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        let first = true;
        report.updates[i] = 0;
        ws.on('message', (data) => {
          const now = performance.timeOrigin + performance.now();
          const m = JSON.parse(data.toString()) as { type: string; data: { status: string; at: string } };
          if (m.type !== 'pipeline_status_update') return;
          if (first) {
            first = false;
            opened();
            if (++ready === count) process.stdout.write('ready\n');
            return;
          }
          report.updates[i]!++;
          report.latencies.push(now - Date.parse(m.data.at));
          if (m.data.status === 'success') report.finals++;
        });
        ws.on('error', () => {
          report.failed++;
          opened();
        });
        ws.on('close', () => {
          if (++closed === count) resolve();
        });
      });
    void (async () => {
      // Batches, so the listen backlog is not overrun by thousands of simultaneous SYNs.
      for (let i = 0; i < count; i += 200) await Promise.all(Array.from({ length: Math.min(200, count - i) }, (_, k) => open(i + k)));
    })();
  });
  await done;
  process.stdout.write(JSON.stringify(report) + '\n');
}

function spawnClients(url: string, count: number): { ready: Promise<void>; report: Promise<ClientReport> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--clients', JSON.stringify({ url, count })], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  child.stdout.on('data', (c) => {
    out += c;
    if (out.includes('ready\n')) markReady();
  });
  const report = new Promise<ClientReport>((resolve, reject) =>
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code === 0 && line) resolve(JSON.parse(line) as ClientReport);
      else reject(new Error(`client process exited with ${code}`));
    }),
  );
  return { ready, report };
}

async function scenario(server: BenchServer, token: string, count: number, steps: number, procs: number): Promise<string[]> {
  const go = join(server.dataDir, `go-${count}`);
  const commands = [`while [ ! -f '${go}' ]; do sleep 0.02; done`, ...Array.from({ length: steps }, () => 'sleep 0.1')];
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const p = (await (
    await fetch(`${server.apiUrl}/api/pipelines/`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: `fanout-${count}`, steps: commands.map((command, i) => ({ name: `s${i}`, type: 'shell_command', config: { command } })) }),
    })
  ).json()) as { id: number };
  const run = (await (await fetch(`${server.apiUrl}/api/pipelines/${p.id}/run/`, { method: 'POST', headers, body: '{}' })).json()) as { id: number };
  const url = `${server.gatewayUrl.replace('http', 'ws')}/ws/pipeline-runs/${run.id}?token=${token}`;
  const started = Date.now();
  const groups = Array.from({ length: procs }, (_, i) => spawnClients(url, Math.floor(count / procs) + (i < count % procs ? 1 : 0)));
  await Promise.all(groups.map((g) => g.ready));
  const connectSeconds = (Date.now() - started) / 1000;
  writeFileSync(go, '');
  const reports = await Promise.all(groups.map((g) => g.report));
  const updates = reports.flatMap((r) => r.updates);
  const latencies = reports.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const finals = reports.reduce((a, r) => a + r.finals, 0);
  const failed = reports.reduce((a, r) => a + r.failed, 0);
  const expected = Math.max(...updates);
  const complete = updates.filter((u) => u === expected).length;
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  return [
    String(count),
    `${connectSeconds.toFixed(1)} s`,
    String(expected),
    `${complete} / ${count}${failed ? ` (${failed} failed)` : ''}`,
    `${finals} / ${count}`,
    p50.toFixed(1),
    p99.toFixed(1),
    percentile(latencies, 100).toFixed(1),
    p50 < 50 && p99 < 250 && complete === count && finals === count ? 'yes' : 'NO',
  ];
}

async function main(): Promise<void> {
  const counts = option('--counts', '1000,5000').split(',').map(Number);
  const steps = Number(option('--steps', '10'));
  const procs = Number(option('--procs', '2'));
  const server = await startBenchServer({ ANSFLOW_WS_HANDSHAKE_RATE_LIMIT: '1000000000' });
  const rows: string[][] = [];
  try {
    const token = await server.login();
    for (const count of counts) rows.push(await scenario(server, token, count, steps, procs));
  } finally {
    await server.stop();
  }
  const header = [
    'clients',
    'connect (all)',
    'updates per client',
    'clients with every update',
    'got final status',
    'median ms',
    'p99 ms',
    'max ms',
    'target met (median < 50, p99 < 250)',
  ];
  const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'} × ${availableParallelism()}, Node ${process.version}; one run with ${steps} steps; clients in ${procs} separate processes on the same machine.`;
  console.log(`\n${table}\n\n${machine}`);
  if (!process.argv.includes('--no-doc')) writeDocSection('## WebSocket fan-out (bench/websocket.ts)', 'bench/websocket.ts', `${table}\n\n${machine}`);
}

if (process.argv.includes('--clients')) await clients();
else await main();
