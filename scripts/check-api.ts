/**
 * The API documents, checked the way a user meets them (.ci/run runs this after the tests):
 *   1. `redocly lint` of both OpenAPI documents as the servers serve them (written to
 *      dist/openapi/; rules in redocly.yaml);
 *   2. `newman run docs/api/postman_collection.json` against a fresh `npm start` (a new data
 *      folder, free ports, the webhook secrets and metrics token set so those requests succeed).
 *   node --import tsx scripts/check-api.ts [--source] [--skip-lint] [--skip-newman]
 * `--source` starts the server from the sources through tsx instead of `npm start` (no build).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { apiDocuments } from './api-documents.js';
import { COLLECTION_PATH } from './postman.js';
import { freePort } from '../test/support/server-process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'node_modules', '.bin');
const args = process.argv.slice(2);

function run(command: string, argv: string[], env: Record<string, string> = {}): number {
  console.log(`check-api: ${[command, ...argv].join(' ')}`);
  return spawnSync(command, argv, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1;
}

async function lint(): Promise<number> {
  const dir = join(ROOT, 'dist', 'openapi');
  mkdirSync(dir, { recursive: true });
  const { api, gateway } = await apiDocuments();
  writeFileSync(join(dir, 'api.json'), JSON.stringify(api, null, 2) + '\n');
  writeFileSync(join(dir, 'gateway.json'), JSON.stringify(gateway, null, 2) + '\n');
  // redocly.yaml lists both documents; no telemetry, no update check.
  return run(join(BIN, 'redocly'), ['lint'], { REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' });
}

async function newman(): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ansflow-newman-'));
  const apiPort = await freePort();
  let gatewayPort = await freePort();
  while (gatewayPort === apiPort) gatewayPort = await freePort();
  const secrets = { github: randomBytes(16).toString('hex'), gitlab: randomBytes(16).toString('hex'), metrics: randomBytes(16).toString('hex') };
  const command = args.includes('--source') ? [process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'serve'] : ['npm', 'start'];
  console.log(`check-api: ${command.join(' ')} (data folder ${dataDir}, ports ${apiPort} and ${gatewayPort})`);
  // Its own process group, so stopping it stops npm's child too.
  const server = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      CI: '',
      ANSFLOW_DATA_DIR: dataDir,
      ANSFLOW_HOST: '127.0.0.1',
      ANSFLOW_API_PORT: String(apiPort),
      ANSFLOW_GATEWAY_PORT: String(gatewayPort),
      ANSFLOW_METRICS_LISTEN: 'off',
      ANSFLOW_GITHUB_WEBHOOK_SECRET: secrets.github,
      ANSFLOW_GITLAB_WEBHOOK_TOKEN: secrets.gitlab,
      ANSFLOW_METRICS_TOKEN: secrets.metrics,
    },
  });
  let output = '';
  server.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20000)));
  server.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20000)));
  const exited = new Promise<void>((done) => server.once('exit', () => done()));
  try {
    // npm start builds first when the sources are newer than dist/: give it time on a busy machine.
    const deadline = Date.now() + 300_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`the server did not answer within 5 minutes:\n${output}`);
      try {
        if ((await fetch(`http://127.0.0.1:${apiPort}/api/auth/methods/`)).ok) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const status = run(join(BIN, 'newman'), [
      'run',
      COLLECTION_PATH,
      '--env-var',
      `base_url=http://127.0.0.1:${apiPort}`,
      '--env-var',
      `fastapi_url=http://127.0.0.1:${gatewayPort}`,
      '--env-var',
      `github_webhook_secret=${secrets.github}`,
      '--env-var',
      `gitlab_webhook_token=${secrets.gitlab}`,
      '--env-var',
      `metrics_token=${secrets.metrics}`,
      '--timeout-request',
      '60000',
      '--color',
      'off',
    ]);
    if (status !== 0) console.error(`check-api: newman failed; the server's last output:\n${output.slice(-4000)}`);
    return status;
  } finally {
    if (server.exitCode === null && server.pid) {
      process.kill(-server.pid, 'SIGTERM');
      const timer = setTimeout(() => server.pid && process.kill(-server.pid, 'SIGKILL'), 15000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

let failed = 0;
if (!args.includes('--skip-lint') && (await lint()) !== 0) failed++;
if (!args.includes('--skip-newman') && (await newman()) !== 0) failed++;
process.exit(failed ? 1 : 0);
