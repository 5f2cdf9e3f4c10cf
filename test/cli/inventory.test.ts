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
import { createServer } from 'node:net';

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
    // A check of more than one host answers 202 and is followed (the check test below).
    h = await startApi({ inventoryCheckSyncHosts: 1 });
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

  test('check: one line a host, followed to its end when answered 202; exit 1 when a host is not reachable', async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    writeFileSync(
      join(dir, 'check.ini'),
      `[local]\nlocal1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n[far]\nghost ansible_host=127.0.0.1 ansible_port=${closed}\n`,
    );
    const pushed = await cli(['push', 'checked', join(dir, 'check.ini')]);
    assert.equal(pushed.code, 0, pushed.stderr);
    const one = await cli(['check', 'checked', '--limit', 'local']);
    assert.equal(one.code, 0, one.stdout + one.stderr);
    assert.match(one.stdout, /^local1\treachable\t.*Python 3\.\d+/m);
    assert.match(one.stdout, /^1 hosts: 1 reachable, 0 unreachable, 0 failed$/m);
    const id = /^checked\tproject \d+\tini\tversion 1/m.test((await cli(['list'])).stdout);
    assert.ok(id);
    const all = await cli(['check', 'checked']);
    assert.equal(all.code, 1, all.stderr);
    assert.match(all.stdout, new RegExp(`^ghost\\tunreachable\\t.*port ${closed}.*Connection refused`, 'm'));
    assert.match(all.stdout, /^2 hosts: 1 reachable, 1 unreachable, 0 failed$/m);
    const bad = await cli(['check', 'checked', '--limit', 'nosuch']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /selects no host/);
  });
});
