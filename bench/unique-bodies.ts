/**
 * autocannon with a different body per request: every `[<id>]` in the body is replaced by a fresh
 * id (a prefix unique to the run, then a counter). A create needs a new name per request, and an
 * update a new value, or every request after the first changes nothing.
 *
 * autocannon 8's `-I/--idReplacement` cannot do it: it sends `Content-Length` as if each id were
 * 33 characters long, but its ids are shorter, so the server waits for bytes that never come and
 * every request hangs (mcollina/autocannon#539). Instead a separate load process runs autocannon's
 * own API with a `setupRequest` that writes the id into each body; the load loop is the CLI's.
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const AUTOCANNON_PKG = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'node_modules', 'autocannon');

const RUNNER = `
const autocannon = require(process.argv[1]);
const o = JSON.parse(process.argv[2]);
const prefix = Date.now().toString(36) + '-' + process.pid.toString(36) + '-';
let n = 0;
const request = { method: o.method, headers: o.headers };
request.setupRequest = (req) => ({ ...req, body: o.body.replaceAll('[<id>]', prefix + (n++)) });
autocannon({ url: o.url, connections: o.connections, duration: o.duration, requests: [request] }, (error, result) => {
  if (error) { console.error(error); process.exit(1); }
  process.stdout.write(JSON.stringify(result) + '\\n');
});
`;

export interface UniqueBodyLoad {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** Each `[<id>]` in it becomes the request's own id. */
  body: string;
  connections: number;
  /** Seconds. */
  duration: number;
  /** A command the load process runs under (e.g. `['taskset', '-c', '0']`); none by default. */
  under?: string[];
}

/** Runs the load; answers autocannon's result (its `--json` shape), or rejects with its stderr. */
export function loadWithUniqueBodies<Result = unknown>(load: UniqueBodyLoad): Promise<Result> {
  const { under = [], ...options } = load;
  const [command, ...args] = [...under, process.execPath, '-e', RUNNER, AUTOCANNON_PKG, JSON.stringify(options)];
  return lastJsonLine<Result>(command!, args, 'autocannon');
}

/**
 * Runs a load process (autocannon's CLI with `--json`, or the runner above) to its end; answers
 * the JSON of the last line it printed, or rejects with what it printed, naming `what`.
 */
export function lastJsonLine<Result>(command: string, args: string[], what: string): Promise<Result> {
  return new Promise((done, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`exit code ${code}`);
        done(JSON.parse(out.trim().split('\n').pop() ?? '') as Result);
      } catch (error) {
        reject(new Error(`${what} failed (${String(error)}):\n${err}\n${out}`));
      }
    });
  });
}
