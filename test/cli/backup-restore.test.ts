/**
 * `ansflow backup` of a LIVE server while a run writes its log, `ansflow restore` into a new
 * folder, and a second server on it: every pipeline, run, log line and credential is there, and
 * secrets still open (a run on the restored server uses the credential and the secret variable).
 * All real processes; the key ring is the one generated into the first data folder.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { list as listTar } from 'tar';
import { runCli, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { isFinalStatus } from '../support/run-status.js';
import { waitFor } from '../support/wait.js';

const CREDENTIAL_TOKEN = 'backup-credential-token-8d1f0a';
const SECRET_VALUE = 'backup-secret-variable-77ab';

interface Api {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }>;
}

async function api(server: ServerProcess): Promise<Api> {
  const login = await fetch(`${server.baseUrl}/api/auth/login/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'admin123' }),
  });
  assert.equal(login.status, 200, 'the admin password is restored too');
  const token = ((await login.json()) as { access: string }).access;
  return {
    async call(method, path, body) {
      const r = await fetch(server.baseUrl + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        // a log is text
      }
      return { status: r.status, json, text };
    },
  };
}

const finished = (a: Api, runId: number, timeoutMs = 60000) =>
  waitFor(
    async () => {
      const r = await a.call('GET', `/api/pipeline-runs/${runId}/`);
      return isFinalStatus(r.json.status) ? r.json : undefined;
    },
    timeoutMs,
    `run ${runId} to finish`,
  );
const logOf = async (a: Api, runId: number) => (await a.call('GET', `/api/pipeline-runs/${runId}/logs/`)).text;
const everything = async (a: Api, path: string) => (await a.call('GET', `${path}?page_size=100`)).json.results as any[];

describe('backup of a live server and restore into a new folder', () => {
  const root = mkdtempSync(join(tmpdir(), 'ansflow-backup-'));
  const first = join(root, 'first');
  const restored = join(root, 'restored');
  const archive = join(root, 'archives', 'nightly.tar.gz');
  let server: ServerProcess | null = null;
  let second: ServerProcess | null = null;
  const env = (dataDir: string) => ({ ANSFLOW_DATA_DIR: dataDir, ANSFLOW_SANDBOX: process.env.ANSFLOW_SANDBOX ?? 'on' });
  after(async () => {
    for (const s of [server, second]) {
      s?.child.kill('SIGTERM');
      await s?.exited;
    }
    rmSync(root, { recursive: true, force: true });
  });

  let a: Api;
  let quickRun: any;
  let slowRunId: number;
  let seenBeforeBackup: string;
  let original: { pipelines: any[]; runs: any[]; credentials: any[]; logs: Map<number, string> };

  before(async () => {
    server = await startServerProcess(env(first));
    a = await api(server);
    const credential = await a.call('POST', '/api/credentials/', { name: 'deploy-token', kind: 'token', secret: { token: CREDENTIAL_TOKEN } });
    assert.equal(credential.status, 201, credential.text);
    const check = `test "$ANSFLOW_TOKEN" = "${CREDENTIAL_TOKEN}" && echo credential-opened; test "$DEPLOY_SECRET" = "${SECRET_VALUE}" && echo secret-opened`;
    const quick = await a.call('POST', '/api/pipelines/', {
      name: 'quick',
      variables: { DEPLOY_SECRET: { value: SECRET_VALUE, secret: true } },
      steps: [
        { name: 'build', type: 'shell_command', config: { command: 'for i in 1 2 3; do echo quick-line-$i; done' } },
        { name: 'use-secrets', type: 'shell_command', config: { command: check }, credential: 'deploy-token' },
      ],
    });
    assert.equal(quick.status, 201, quick.text);
    quickRun = await finished(a, (await a.call('POST', `/api/pipelines/${quick.json.id}/run/`, {})).json.id);
    assert.equal(quickRun.status, 'success');
    assert.match(await logOf(a, quickRun.id), /credential-opened[\s\S]*secret-opened/);
    const slow = await a.call('POST', '/api/pipelines/', {
      name: 'slow-writer',
      steps: [{ name: 'write', type: 'shell_command', config: { command: 'for i in $(seq 1 3000); do echo slow-line-$i; sleep 0.01; done' } }],
    });
    slowRunId = (await a.call('POST', `/api/pipelines/${slow.json.id}/run/`, {})).json.id;
    seenBeforeBackup = await waitFor(
      async () => {
        const log = await logOf(a, slowRunId);
        return log.includes('slow-line-20\n') ? log : undefined;
      },
      30000,
      'the slow run to write',
    );
  });

  test('backup while the run writes; restore refuses a folder with data; the restored server has everything', async () => {
    const backup = await runCli(['backup', archive], env(first));
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /Backed up 2 pipelines, 2 runs, 1 credentials/);
    const during = await a.call('GET', `/api/pipeline-runs/${slowRunId}/`);
    assert.equal(during.json.status, 'running', 'the backup was taken mid-run');
    assert.equal(statSync(archive).mode & 0o777, 0o600, 'the archive holds the key: only its owner reads it');
    const names: string[] = [];
    await listTar({ file: archive, onReadEntry: (e) => names.push(e.path) });
    assert.ok(names.includes('manifest.json') && names.includes('ansflow.db') && names.includes('secret.key'), names.join());
    assert.ok(!names.some((n) => n.startsWith('workspaces')), 'workspaces are not kept');

    // The original goes on and finishes; its final records are what the restored copy is compared with.
    await a.call('POST', `/api/pipeline-runs/${slowRunId}/cancel/`, {});
    await finished(a, slowRunId);
    original = {
      pipelines: await everything(a, '/api/pipelines/'),
      runs: await everything(a, '/api/pipeline-runs/'),
      credentials: await everything(a, '/api/credentials/'),
      logs: new Map([
        [quickRun.id, await logOf(a, quickRun.id)],
        [slowRunId, await logOf(a, slowRunId)],
      ]),
    };

    mkdirSync(join(root, 'busy'));
    writeFileSync(join(root, 'busy', 'keep-me'), 'data');
    const refused = await runCli(['restore', archive, '--data-dir', join(root, 'busy')], {});
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /nothing restored: .*busy is not empty/);
    assert.deepEqual(readdirSync(join(root, 'busy')), ['keep-me']);

    const restore = await runCli(['restore', archive, '--data-dir', restored], {});
    assert.equal(restore.code, 0, restore.stderr);
    assert.match(restore.stdout, /Restored 2 pipelines, 2 runs, 1 credentials/);
    assert.equal(statSync(join(restored, 'secret.key')).mode & 0o777, 0o600);
    assert.ok(!readdirSync(root).some((n) => n.includes('.restoring-') || n.includes('.staging-')), 'no staging folder left');

    second = await startServerProcess(env(restored));
    const b = await api(second);
    const pipelines = await everything(b, '/api/pipelines/');
    assert.deepEqual(
      pipelines.map((p) => [p.id, p.name, p.updated_at]),
      original.pipelines.map((p) => [p.id, p.name, p.updated_at]),
    );
    const credentials = await everything(b, '/api/credentials/');
    assert.deepEqual(
      credentials.map((c) => [c.id, c.name, c.kind]),
      original.credentials.map((c) => [c.id, c.name, c.kind]),
    );
    const runs = await everything(b, '/api/pipeline-runs/');
    assert.deepEqual(
      runs.map((r) => [r.id, r.number, r.pipeline?.id ?? r.pipeline_id]),
      original.runs.map((r) => [r.id, r.number, r.pipeline?.id ?? r.pipeline_id]),
    );
    assert.equal(runs.find((r) => r.id === quickRun.id).status, 'success');
    // A finished run's log is whole; the run that was writing has every line written before the
    // backup, and its log is a beginning of what the original wrote.
    assert.equal(await logOf(b, quickRun.id), original.logs.get(quickRun.id));
    const slowLog = await logOf(b, slowRunId);
    const written = (log: string) => log.split('\n').filter((line) => line.startsWith('slow-line-'));
    assert.ok(slowLog.startsWith(seenBeforeBackup), 'every line written before the backup is there');
    assert.deepEqual(written(slowLog), written(original.logs.get(slowRunId)!).slice(0, written(slowLog).length), 'in order, none lost in between');
    const slowAfter = await b.call('GET', `/api/pipeline-runs/${slowRunId}/`);
    assert.ok(isFinalStatus(slowAfter.json.status), 'the run that was mid-way is settled by the restored server, not left running');

    // Secrets sealed on the first server open on the restored one: a run uses both.
    const quickId = pipelines.find((p) => p.name === 'quick').id;
    const again = await finished(b, (await b.call('POST', `/api/pipelines/${quickId}/run/`, {})).json.id);
    assert.equal(again.status, 'success');
    assert.equal(again.number, 2, 'run numbers go on from the restored ones');
    assert.match(await logOf(b, again.id), /credential-opened[\s\S]*secret-opened/);
  });
});
