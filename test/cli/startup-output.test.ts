/**
 * What `ansflow serve` prints: JSON lines only when stdout is not a terminal (the start-up message
 * is one of them), readable lines and one clean start-up block on a terminal (a real pseudo-
 * terminal through util-linux `script`). The message names `npx ansflow`, which works after
 * `npm install` (a bare `ansflow` is not on the PATH).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, freePort } from '../support/server-process.js';

async function serveUntilRunning(command: string, args: string[], env: Record<string, string>): Promise<string> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    const deadline = Date.now() + 60000;
    // The block is whole once its last line is there.
    while (!/Steps run|WARNING: steps/.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 300));
    return output;
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
}

describe('start-up output', () => {
  const env = async (dir: string) => ({
    NODE_ENV: 'test',
    ANSFLOW_DATA_DIR: dir,
    ANSFLOW_API_PORT: String(await freePort()),
    ANSFLOW_GATEWAY_PORT: String(await freePort()),
    ANSFLOW_METRICS_LISTEN: '127.0.0.1:0',
    ANSFLOW_LOG_LEVEL: 'info',
  });

  test('for a machine: every line is JSON, the start-up message one of them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ansflow-startup-'));
    try {
      const output = await serveUntilRunning(process.execPath, CLI.concat('serve'), await env(dir));
      const lines = output.split('\n').filter(Boolean);
      for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
      const startup = lines.map((l) => JSON.parse(l)).find((l) => l.startup === true);
      assert.ok(startup, output);
      assert.match(startup.msg, /^AnsFlow is running \(role: all/);
      assert.match(startup.msg, /Log in as: admin \/ admin123\n {2}Change that password before exposing this server: npx ansflow user set-password admin/);
      assert.match(startup.api, /^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('on a terminal: readable log lines and the start-up message as one block', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ansflow-startup-'));
    try {
      const command = [process.execPath, ...CLI, 'serve'].map((a) => `'${a}'`).join(' ');
      const output = (await serveUntilRunning('script', ['-qfec', command, '/dev/null'], await env(dir))).replace(/\r/g, '');
      assert.doesNotMatch(output, /^\{"level"/m, 'no JSON on a terminal');
      // eslint-disable-next-line no-control-regex
      const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
      assert.match(plain, /^\[\d\d:\d\d:\d\d\] INFO: Server listening at http:\/\/127\.0\.0\.1:\d+$/m);
      const block = /\n\nAnsFlow is running[^\n]*\n((?: {2}[^\n]*\n)+)\n/.exec(plain);
      assert.ok(block, `the start-up block, set apart by blank lines:\n${plain}`);
      assert.match(block[1]!, /npx ansflow user set-password admin/);
      assert.doesNotMatch(block[1]!, /INFO|WARN/, 'no log line inside the block');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
