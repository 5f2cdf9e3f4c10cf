/**
 * `ansflow inventory` as a real process against the real API: push creates, a second push saves
 * the next version, list and hosts show them, a syntax error is refused naming the line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type Harness } from '../support/api-harness.js';
import { CLI } from '../support/server-process.js';

describe('ansflow inventory', () => {
  let h: Harness;
  let dir: string;
  let env: Record<string, string>;

  const cli = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => {
    const clean = { ...process.env };
    for (const name of ['ANSFLOW_TOKEN', 'ANSFLOW_URL', 'ANSFLOW_USER', 'ANSFLOW_PASSWORD']) delete clean[name];
    const child = spawn(process.execPath, [...CLI, 'inventory', ...args], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  };

  before(async () => {
    h = await startApi();
    dir = mkdtempSync(join(tmpdir(), 'ansflow-cli-inventory-'));
    env = { XDG_CONFIG_HOME: dir, ANSFLOW_URL: h.baseUrl, ANSFLOW_TOKEN: await h.login() };
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('push creates, push again saves a version; list and hosts show it; a syntax error names the line', async () => {
    writeFileSync(join(dir, 'hosts.ini'), '[web]\nweb1\nweb2\n');
    const created = await cli(['push', 'prod', join(dir, 'hosts.ini')]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^created prod: version 1, 2 hosts$/m);
    writeFileSync(join(dir, 'hosts.yml'), 'all:\n  children:\n    db:\n      hosts:\n        db1: {}\n');
    const saved = await cli(['push', 'prod', join(dir, 'hosts.yml')]);
    assert.equal(saved.code, 0, saved.stderr);
    assert.match(saved.stdout, /^saved prod: version 2, 1 hosts$/m);
    const list = await cli(['list']);
    assert.match(list.stdout, /^prod\tproject 1\tyaml\tversion 2\t1 hosts$/m);
    const hosts = await cli(['hosts', 'prod']);
    assert.equal(hosts.stdout, 'db1\tdb\n');
    writeFileSync(join(dir, 'bad.ini'), '[web]\nweb1\n[web:vars]\nbroken\n');
    const bad = await cli(['push', 'prod', join(dir, 'bad.ini')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /400 VALIDATION_ERROR: Ansible could not parse the inventory: line 4: Expected key=value/);
  });
});
