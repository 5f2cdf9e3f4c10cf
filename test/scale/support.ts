/**
 * A distributed AnsFlow on this machine, as real processes started from source (tsx): N API
 * processes (`serve --role api`), one gateway (`serve --role gateway`) and M workers
 * (`ansflow worker`, each with its own data folder), all on one PostgreSQL database and one Redis
 * prefix, sharing one secret key so a token from any API works everywhere. `stop()` kills every
 * process (and the step process groups the workers recorded), also when a test failed; a process
 * exit hook kills what is left if the test runner itself dies.
 *
 * Also here: a TCP proxy (node:net) to put between the processes and PostgreSQL, which can be cut
 * and restored, and a small JSON client for the API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFinalStatus } from '../support/run-status.js';
import { CLI, freePort } from '../support/server-process.js';
import { ProcessRegistry } from '../../src/engine/process-registry.js';
import { processesRoot } from '../../src/services/runs/run-worker.js';

export const ADMIN_PASSWORD = 'admin123';

/** Every child of every cluster, killed synchronously if this process exits without stop(). */
const allChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of allChildren) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  output(): string;
  exited: Promise<number | null>;
  alive(): boolean;
}

export interface HttpProc extends Proc {
  baseUrl: string;
}

export interface WorkerProc extends Proc {
  dataDir: string;
  labels: string[];
  concurrency: number;
  /** The id the worker registers under (`hostname:pid`), as in system status and run_queue.claimed_by. */
  workerId: string;
}

export interface WorkerSpec {
  concurrency?: number;
  labels?: string[];
  env?: Record<string, string>;
}

export interface ClusterOptions {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  apis?: number;
  gateway?: boolean;
  workers?: WorkerSpec[];
  /** Environment for every process (e.g. ANSFLOW_WORKER_LEASE_SECONDS). */
  env?: Record<string, string>;
  /** ANSFLOW_LOG_LEVEL of every process (default warn: problems show in outputs()). */
  logLevel?: string;
}

export interface Cluster {
  apis: HttpProc[];
  gateway: HttpProc | null;
  workers: WorkerProc[];
  env: Record<string, string>;
  startWorker(spec?: WorkerSpec): Promise<WorkerProc>;
  /** Everything every process printed, for failure messages. */
  outputs(): string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;

function spawnProc(name: string, args: string[], env: Record<string, string>, ready: string): Promise<Proc> {
  const child = spawn(process.execPath, [...CLI, ...args], {
    env: { ...process.env, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  allChildren.add(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      allChildren.delete(child);
      resolve(code);
    }),
  );
  const proc: Proc = {
    name,
    child,
    pid: child.pid!,
    output: () => output,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
  };
  return (async () => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!output.includes(ready)) {
      if (Date.now() > deadline || !proc.alive()) {
        child.kill('SIGKILL');
        throw new Error(`${name} did not start:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return proc;
  })();
}

async function startServe(name: string, role: 'api' | 'gateway', env: Record<string, string>): Promise<HttpProc> {
  const apiPort = await freePort();
  let gatewayPort = await freePort();
  while (gatewayPort === apiPort) gatewayPort = await freePort();
  const proc = await spawnProc(
    name,
    ['serve', '--role', role],
    { ...env, ANSFLOW_API_PORT: String(apiPort), ANSFLOW_GATEWAY_PORT: String(gatewayPort) },
    'AnsFlow is running',
  );
  return { ...proc, baseUrl: `http://127.0.0.1:${role === 'api' ? apiPort : gatewayPort}` };
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const dirs: string[] = [];
  const procs: Proc[] = [];
  const workers: WorkerProc[] = [];
  const env: Record<string, string> = {
    ANSFLOW_DATABASE_URL: options.databaseUrl,
    ANSFLOW_REDIS_URL: options.redisUrl,
    ANSFLOW_REDIS_PREFIX: options.redisPrefix,
    ANSFLOW_SECRET_KEY: randomBytes(32).toString('hex'),
    ANSFLOW_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ANSFLOW_LOG_LEVEL: options.logLevel ?? 'warn',
    ...options.env,
  };
  const newDataDir = (name: string) => {
    const dir = mkdtempSync(join(tmpdir(), `ansflow-scale-${name}-`));
    dirs.push(dir);
    return dir;
  };
  let workerCount = 0;
  const startWorker = async (spec: WorkerSpec = {}): Promise<WorkerProc> => {
    const name = `worker${++workerCount}`;
    const dataDir = newDataDir(name);
    const concurrency = spec.concurrency ?? 2;
    const labels = spec.labels ?? [];
    const args = ['worker', '--concurrency', String(concurrency), ...(labels.length > 0 ? ['--labels', labels.join(',')] : [])];
    const proc = await spawnProc(name, args, { ...env, ...spec.env, ANSFLOW_DATA_DIR: dataDir }, 'AnsFlow worker running');
    procs.push(proc);
    const hostname = (await import('node:os')).hostname();
    const worker: WorkerProc = { ...proc, dataDir, labels, concurrency, workerId: `${hostname}:${proc.pid}` };
    workers.push(worker);
    return worker;
  };

  const stop = async () => {
    const running = procs.filter((p) => p.alive());
    for (const p of running) p.child.kill('SIGKILL');
    await Promise.all(running.map((p) => p.exited));
    // The workers' step processes lead their own groups and survive their worker: kill the recorded ones.
    for (const w of workers) new ProcessRegistry(processesRoot(w.dataDir)).killOrphans();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };

  const apis: HttpProc[] = [];
  let gateway: HttpProc | null = null;
  try {
    // The first process migrates and creates the admin; the others start in parallel after it.
    const first = await startServe('api1', 'api', { ...env, ANSFLOW_DATA_DIR: newDataDir('api1') });
    procs.push(first);
    apis.push(first);
    const rest: Promise<void>[] = [];
    for (let i = 2; i <= (options.apis ?? 2); i++)
      rest.push(
        startServe(`api${i}`, 'api', { ...env, ANSFLOW_DATA_DIR: newDataDir(`api${i}`) }).then((p) => {
          procs.push(p);
          apis.push(p);
        }),
      );
    if (options.gateway ?? true)
      rest.push(
        startServe('gateway', 'gateway', { ...env, ANSFLOW_DATA_DIR: newDataDir('gateway') }).then((p) => {
          procs.push(p);
          gateway = p;
        }),
      );
    for (const spec of options.workers ?? []) rest.push(startWorker(spec).then(() => undefined));
    const results = await Promise.allSettled(rest);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  } catch (error) {
    await stop();
    throw error;
  }
  apis.sort((a, b) => a.name.localeCompare(b.name));
  workers.sort((a, b) => a.name.localeCompare(b.name));
  return {
    apis,
    gateway,
    workers,
    env,
    startWorker,
    outputs: () => procs.map((p) => `--- ${p.name} (pid ${p.pid}) ---\n${p.output()}`).join('\n'),
    stop,
  };
}

/** Which worker ran a step: its `$ANSFLOW_WORKSPACE` lies in that worker's data folder. */
export function workerOf(workers: readonly WorkerProc[], workspace: string): WorkerProc | undefined {
  return workers.find((w) => workspace.startsWith(w.dataDir + '/'));
}

// ---------------------------------------------------------------------------------------------
// A cuttable TCP proxy

export interface TcpProxy {
  port: number;
  /** Connections currently open through the proxy. */
  connections(): number;
  /** Stops accepting (connections are refused) and destroys every open connection. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        sockets.add(client);
        sockets.add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });
  const stopListening = async () => {
    const s = server;
    server = null;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();
  return {
    get port() {
      return port;
    },
    connections: () => sockets.size / 2,
    cut: stopListening,
    async restore() {
      // The port was just released; retry briefly in case the kernel has not freed it yet.
      for (let i = 0; ; i++) {
        try {
          await listen();
          return;
        } catch (error) {
          if (i > 50) throw error;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    close: stopListening,
  };
}

// ---------------------------------------------------------------------------------------------
// A small API client

export interface ApiResponse {
  status: number;
  json: any;
  text: string;
  headers: Headers;
}

export async function api(base: string, method: string, path: string, token?: string, body?: unknown): Promise<ApiResponse> {
  const response = await fetch(base + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  const json = response.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : null;
  return { status: response.status, json, text, headers: response.headers };
}

export async function login(base: string): Promise<string> {
  const r = await api(base, 'POST', '/api/auth/login/', undefined, { username: 'admin', password: ADMIN_PASSWORD });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${r.text}`);
  return r.json.access as string;
}

/** Waits until every run is final; returns them by id. */
export async function waitForRuns(base: string, token: string, ids: readonly number[], timeoutMs: number): Promise<Map<number, any>> {
  const done = new Map<number, any>();
  const deadline = Date.now() + timeoutMs;
  while (done.size < ids.length) {
    for (const id of ids) {
      if (done.has(id)) continue;
      const r = await api(base, 'GET', `/api/pipeline-runs/${id}/`, token).catch(() => null);
      if (r?.status === 200 && isFinalStatus(r.json.status)) done.set(id, r.json);
    }
    if (done.size === ids.length) break;
    if (Date.now() > deadline) {
      const pending = ids.filter((id) => !done.has(id));
      throw new Error(`timed out after ${timeoutMs} ms waiting for runs ${pending.join(', ')} to finish`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return done;
}
