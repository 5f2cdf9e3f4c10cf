/**
 * `ansflow login`, a command using the stored token, and `ansflow logout`, as real processes
 * against the real API, with the config folder in a temporary XDG_CONFIG_HOME.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type Harness } from '../support/api-harness.js';
import { CLI } from '../support/server-process.js';

function cli(args: string[], env: Record<string, string>, stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = { ...process.env };
  for (const name of ['ANSFLOW_TOKEN', 'ANSFLOW_URL', 'ANSFLOW_USER', 'ANSFLOW_PASSWORD']) delete clean[name];
  const child = spawn(process.execPath, [...CLI, ...args], { env: { ...clean, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('ansflow login and logout', () => {
  let h: Harness;
  let config: string;
  let env: Record<string, string>;

  before(async () => {
    h = await startApi();
    config = mkdtempSync(join(tmpdir(), 'ansflow-config-'));
    env = { XDG_CONFIG_HOME: config };
    const admin = await h.login();
    const p = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: { name: 'cli-login', steps: [{ name: 'hello', type: 'shell_command', config: { command: 'echo hi' } }] },
    });
    assert.equal(p.status, 201, p.text);
  });
  after(async () => {
    await h.close();
    rmSync(config, { recursive: true, force: true });
  });

  test('a wrong password stores nothing', async () => {
    const r = await cli(['login', '--url', h.baseUrl, '--user', 'admin', '--password-stdin'], env, 'wrong-password\n');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /401/);
    assert.ok(!existsSync(join(config, 'ansflow', 'credentials.json')));
  });

  test('login stores a full-scope token named after the host, 0600 in a 0700 folder; run uses it; logout revokes it', async () => {
    const login = await cli(['login', '--url', h.baseUrl + '/', '--user', 'admin', '--password-stdin'], env, 'admin123\n');
    assert.equal(login.code, 0, login.stderr);
    const file = join(config, 'ansflow', 'credentials.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(config, 'ansflow')).mode & 0o777, 0o700);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(stored.url, h.baseUrl);
    assert.match(stored.token, /^afp_/);

    const admin = await h.login();
    const tokens = (await h.request('GET', '/api/users/me/tokens/', { token: admin })).json;
    const mine = tokens.find((t: any) => t.id === stored.token_id);
    assert.equal(mine.name, `ansflow-cli@${hostname()}`);
    assert.deepEqual(mine.scopes, ['read', 'run', 'write', 'admin']);

    // No password anywhere: the stored token authenticates the run.
    const run = await cli(['run', 'cli-login', '--follow'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /hi/);
    const runs = (await h.request('GET', '/api/pipeline-runs/', { token: admin })).json;
    assert.equal(runs.results[0].trigger.user.username, 'admin');

    const logout = await cli(['logout'], env);
    assert.equal(logout.code, 0, logout.stderr);
    assert.ok(!existsSync(file));
    assert.equal((await h.request('GET', '/api/pipelines/', { token: stored.token })).status, 401, 'the token was revoked on the server');
    // Logged out, with no password to log in with: the command refuses instead of hanging.
    const after = await cli(['run', 'cli-login'], { ...env, ANSFLOW_URL: h.baseUrl });
    assert.notEqual(after.code, 0);
  });
});
