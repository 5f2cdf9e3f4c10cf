/**
 * Shared by every benchmark: the real server as a child process on loopback (SQLite in a fresh data
 * folder; sources through tsx, or a compiled entry point with extra node flags for profiling), and writing a benchmark's
 * results into its own section of docs/benchmarks.md without touching the other sections.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/support/server-process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DOC = join(ROOT, 'docs', 'benchmarks.md');

export interface BenchServer {
  apiUrl: string;
  gatewayUrl: string;
  dataDir: string;
  child: ChildProcess;
  /** The last 20,000 characters the server printed. */
  output(): string;
  login(): Promise<string>;
  stop(): Promise<void>;
}

export interface LaunchOptions {
  /** A compiled CLI entry point (e.g. dist/cli/main.js); default: the sources through tsx. */
  main?: string;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** Extra arguments of `serve`, e.g. --processes 2. */
  serveArgs?: string[];
}

export async function startBenchServer(env: Record<string, string>, launch: LaunchOptions = {}): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ansflow-bench-'));
  const apiPort = await freePort();
  let gatewayPort = await freePort();
  while (gatewayPort === apiPort) gatewayPort = await freePort();
  const entry = launch.main ? [launch.main] : ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts')];
  const child = spawn(process.execPath, [...(launch.nodeFlags ?? []), ...entry, 'serve', ...(launch.serveArgs ?? [])], {
    cwd: ROOT,
    env: {
      ...process.env,
      ANSFLOW_DATA_DIR: dataDir,
      ANSFLOW_HOST: '127.0.0.1',
      ANSFLOW_API_PORT: String(apiPort),
      ANSFLOW_GATEWAY_PORT: String(gatewayPort),
      ANSFLOW_LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (c: Buffer) => (out = (out + c.toString()).slice(-20000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  return {
    apiUrl,
    gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
    dataDir,
    child,
    output: () => out,
    async login() {
      // Three minutes: the server compiles its sources through tsx at start, which takes over a minute on a busy machine.
      const deadline = Date.now() + 180_000;
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}`);
        try {
          const r = await fetch(`${apiUrl}/api/auth/login/`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ username: 'admin', password: 'admin123' }),
          });
          if (r.status === 200) return ((await r.json()) as { access: string }).access;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`server did not start:\n${out}`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Replaces the generated block of `heading`'s section (between markers named after `source`),
 * appending the section at the end of the file when it is not there yet. Hand-written text
 * around the block, and every other section, stay as they are.
 */
export function writeDocSection(heading: string, source: string, content: string): void {
  const start = `<!-- ${source} results: start (generated, do not edit) -->`;
  const end = `<!-- ${source} results: end -->`;
  const block = `${start}\n${content}\n${end}`;
  let doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Benchmarks\n';
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i >= 0 && j > i) doc = doc.slice(0, i) + block + doc.slice(j + end.length);
  else doc = `${doc.trimEnd()}\n\n${heading}\n\n${block}\n`;
  writeFileSync(DOC, doc);
}
