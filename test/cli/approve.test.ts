/**
 * `ansflow approve`, `ansflow reject` and `ansflow run --input` as real processes against the real
 * API: a decision is recorded with its comment and says where the gate stands; refusals (a second
 * decision, a run that is not waiting) exit 2 with the API's reason; launch inputs are checked
 * and become the run's variables.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type Harness } from '../support/api-harness.js';
import { CLI } from '../support/server-process.js';
import { waitFor } from '../support/wait.js';

describe('ansflow approve / reject / run --input', () => {
  let h: Harness;
  let dir: string;
  let admin = '';
  const token: Record<string, string> = {};
  let deployPipeline = 0;

  const cli = (args: string[], as: string): Promise<{ code: number | null; stdout: string; stderr: string }> => {
    const clean = { ...process.env };
    for (const name of ['ANSFLOW_TOKEN', 'ANSFLOW_URL', 'ANSFLOW_USER', 'ANSFLOW_PASSWORD']) delete clean[name];
    const env = { XDG_CONFIG_HOME: dir, ANSFLOW_URL: h.baseUrl, ANSFLOW_TOKEN: as };
    const child = spawn(process.execPath, [...CLI, ...args], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  };
  const runOf = async (id: number) => (await h.request('GET', `/api/pipeline-runs/${id}/`, { token: admin })).json;
  const waitingRun = async () => {
    const r = await h.request('POST', `/api/pipelines/${deployPipeline}/run/`, { token: admin, body: {} });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.status, 'waiting');
    return r.json.id as number;
  };

  before(async () => {
    h = await startApi();
    dir = mkdtempSync(join(tmpdir(), 'ansflow-cli-approve-'));
    admin = await h.login();
    const project = (await h.ctx.repos.projects.defaultProjectId())!;
    for (const name of ['maint1', 'maint2']) {
      token[name] = await h.userToken(name, 'developer');
      await h.ctx.repos.projects.setMember(project, (await h.ctx.repos.users.findByUsername(name))!.id, 'maintainer');
    }
    const env = await h.request('POST', '/api/environments/', { token: admin, body: { name: 'production', required_approvals: 2 } });
    assert.equal(env.status, 201, env.text);
    const p = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: { name: 'deploy', steps: [{ name: 'deploy', type: 'shell_command', config: { command: 'echo deployed' }, environment: 'production' }] },
    });
    assert.equal(p.status, 201, p.text);
    deployPipeline = p.json.id;
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('approve records the decision with its comment and says how many approvals are still needed; the second one starts the run', async () => {
    const run = await waitingRun();
    const first = await cli(['approve', String(run), '--comment', 'looks good'], token.maint1!);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^approved run \d+: deployment to production waits for 1 more approval\(s\) \(1 of 2; /m);
    const again = await cli(['approve', String(run)], token.maint1!);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /ansflow approve: POST \/api\/pipeline-runs\/\d+\/approvals\/ → 409 RESOURCE_CONFLICT: You have already decided on this run/);
    const second = await cli(['approve', String(run)], token.maint2!);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /deployment to production is approved and starts now/);
    const gate = (await h.request('GET', `/api/pipeline-runs/${run}/approvals/`, { token: admin })).json;
    assert.deepEqual(
      gate.decisions.map((d: any) => [d.user.username, d.decision, d.comment]),
      [
        ['maint1', 'approve', 'looks good'],
        ['maint2', 'approve', ''],
      ],
    );
    const done = await waitFor(async () => ((await runOf(run)).status === 'success' ? true : false), 20000, 'the approved run to succeed');
    assert.ok(done);
    const late = await cli(['reject', String(run)], admin);
    assert.equal(late.code, 2, 'a run that is not waiting cannot be rejected');
    assert.match(late.stderr, /409/);
  });

  test('reject ends the run cancelled with the name and comment as its reason', async () => {
    const run = await waitingRun();
    const r = await cli(['reject', String(run), '--comment', 'not on a Friday'], token.maint2!);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /rejected run \d+: deployment to production is rejected/);
    const after = await runOf(run);
    assert.equal(after.status, 'cancelled');
    assert.match(after.error_reason, /rejected by maint2: not on a Friday/);
  });

  test('a run id is required, and help is printed', async () => {
    const missing = await cli(['approve'], admin);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /expected one run id/);
    const help = await cli(['reject', '--help'], admin);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: ansflow reject <run-id> \[--comment TEXT\]/);
  });

  test('run --input gives launch inputs as text; the API reads their types and names a bad one', async () => {
    const p = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: {
        name: 'with-inputs',
        inputs: [
          { name: 'region', type: 'choice', options: ['eu', 'us'], required: true },
          { name: 'REPLICAS', type: 'number', default: 1 },
          { name: 'DRY_RUN', type: 'boolean', default: true },
        ],
        steps: [{ name: 's', type: 'shell_command', config: { command: 'true' } }],
      },
    });
    assert.equal(p.status, 201, p.text);
    const ok = await cli(['run', 'with-inputs', '--input', 'region=us', '--input', 'REPLICAS=3', '--input', 'DRY_RUN=false'], admin);
    assert.equal(ok.code, 0, ok.stderr);
    const run = await runOf(Number(ok.stdout.trim()));
    assert.deepEqual([run.variables.region, run.variables.REPLICAS, run.variables.DRY_RUN], ['us', '3', 'false']);
    const bad = await cli(['run', 'with-inputs', '--input', 'region=mars'], admin);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /400 VALIDATION_ERROR: .*"inputs\.region":\["\\"mars\\" is not one of: eu, us\."\]/);
    const malformed = await cli(['run', 'with-inputs', '--input', 'region'], admin);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /--input expects NAME=VALUE, got "region"/);
    await waitFor(async () => ['success', 'failed'].includes((await runOf(run.id)).status), 20000, 'the run to finish');
  });
});
