/**
 * Repository URLs through the real API: hostile hosts, Windows paths, control characters and
 * metadata addresses are refused with the field named; URLs carrying a password or token cannot
 * be saved; one stored before that rule still runs, and no response, WebSocket message, delivery
 * or log shows its password, even to a viewer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Harness } from '../support/api-harness.js';
import { connectWs, createPipeline, githubHeaders, postGithub, pushFixtures, startGateway, wsUrl } from '../gateway/gateway-support.js';
import { createBareRepo, makeTempDir, startHttpGitServer, type HttpGitServer, type TempDir } from '../support/git-fixtures.js';
import { waitFor } from '../support/wait.js';
import { isFinalStatus } from '../support/run-status.js';

const CREDENTIAL_MESSAGE = 'Repository URL must not contain a password or token; store it as a credential and name it in the step (credential: <name>)';
const checkoutStep = (repository: string) => ({ name: 'checkout', type: 'git_checkout', config: { repository } });

describe('repository URLs on save', () => {
  let h: Harness;
  let dev: string;
  before(async () => {
    h = await startGateway();
    dev = await h.userToken('dev', 'developer');
  });
  after(() => h.close());

  const save = (body: Record<string, unknown>) => h.request('POST', '/api/pipelines/', { token: dev, body: { name: `p-${randomUUID()}`, ...body } });

  test('hostile hosts, Windows drive paths, control characters and metadata addresses are refused, field named', async () => {
    for (const url of [
      'https://git`id`.example.com/r.git',
      'https://git$(id).example.com/r.git',
      'ssh://git@h${IFS}x/r.git',
      'C:\\Windows',
      'C:/Windows',
      'c:foo',
      'https://example.com/r.git%0d%0aHost:x',
      'https://example.com/r%00.git',
      'https://example.com/r.git%0A',
      'http://169.254.169.254/latest/meta-data/r.git',
      'http://2852039166/r.git',
      'http://0xa9fea9fe/r.git',
      'http://0xA9.0xFE.0xA9.0xFE/r.git',
      'http://0251.0376.0251.0376/r.git',
      'http://169.254.43518/r.git',
      'http://[::ffff:169.254.169.254]/r.git',
      'http://[::ffff:a9fe:a9fe]/r.git',
      'http://169.254.169.254./r.git',
      'https://Metadata.Google.Internal./r.git',
      'http://[fd00:ec2::254]/r.git',
      'git@169.254.169.254:r.git',
    ]) {
      const top = await save({ repository_url: url });
      assert.equal(top.status, 400, `${url} → ${top.status}`);
      assert.equal(top.json.error.code, 'VALIDATION_ERROR');
      assert.ok(top.json.error.details.repository_url?.length, `${url}: ${top.text}`);
      const step = await save({ steps: [checkoutStep(url)] });
      assert.equal(step.status, 400, url);
      assert.ok(step.json.error.details['steps[0].config.repository']?.length, `${url}: ${step.text}`);
    }
  });

  test('a password or token in the URL is refused with a pointer to credentials; ssh user names are fine', async () => {
    for (const url of ['https://user:s3cr3t-a@github.com/o/r.git', 'https://s3cr3t-a@github.com/o/r.git', 'ssh://git:s3cr3t-a@github.com/o/r.git']) {
      const top = await save({ repository_url: url });
      assert.equal(top.status, 400, url);
      assert.deepEqual(top.json.error.details.repository_url, [CREDENTIAL_MESSAGE]);
      const step = await save({ steps: [{ name: 'build', type: 'shell_command', config: { command: 'true' } }, checkoutStep(url)] });
      assert.equal(step.status, 400, url);
      assert.deepEqual(step.json.error.details['steps[1].config.repository'], [CREDENTIAL_MESSAGE]);
      assert.ok(!top.text.includes('s3cr3t-a') && !step.text.includes('s3cr3t-a'), 'the refusal echoes the secret');
    }
    const ok = await save({ repository_url: 'ssh://git@github.com/o/r.git', steps: [checkoutStep('git@github.com:o/r.git')] });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.json.repository_url, 'ssh://git@github.com/o/r.git');

    // PUT and PATCH are saves too.
    const patched = await h.request('PATCH', `/api/pipelines/${ok.json.id}/`, { token: dev, body: { repository_url: 'https://u:p@github.com/o/r.git' } });
    assert.equal(patched.status, 400);
    assert.deepEqual(patched.json.error.details.repository_url, [CREDENTIAL_MESSAGE]);
    const put = await h.request('PUT', `/api/pipelines/${ok.json.id}/`, {
      token: dev,
      body: { name: ok.json.name, steps: [checkoutStep('https://t0k3n@github.com/o/r.git')] },
    });
    assert.equal(put.status, 400);
    assert.deepEqual(put.json.error.details['steps[0].config.repository'], [CREDENTIAL_MESSAGE]);
  });

  test('ANSFLOW_ALLOW_METADATA_ADDRESSES=true lets the operator name them', async () => {
    const allowed = await startGateway({}, { ANSFLOW_ALLOW_METADATA_ADDRESSES: 'true' });
    try {
      const token = await allowed.login();
      const r = await allowed.request('POST', '/api/pipelines/', { token, body: { name: 'metadata', repository_url: 'http://169.254.169.254/r.git' } });
      assert.equal(r.status, 201, r.text);
    } finally {
      await allowed.close();
    }
  });
});

describe('a URL with credentials stored before the rule', () => {
  let h: Harness;
  let tmp: TempDir;
  let server: HttpGitServer;
  const password = `pw-${randomUUID()}`;
  before(async () => {
    h = await startGateway();
    tmp = makeTempDir();
    createBareRepo(tmp.path, 'private', { history: [{ 'app.txt': 'ok' }] });
    server = await startHttpGitServer(tmp.path, { username: 'deploy', password });
  });
  after(async () => {
    await server.stop();
    await h.close();
    tmp.cleanup();
  });

  test('still runs, and no API response, WebSocket message, delivery or log shows the password (as a viewer)', async () => {
    const admin = await h.login();
    const viewer = await h.userToken('watcher', 'viewer');
    const id = await createPipeline(h, admin, {
      name: 'legacy',
      repository_url: server.url('private'),
      steps: [checkoutStep(server.url('private')), { name: 'show', type: 'shell_command', config: { command: 'cat app.txt' } }],
    });
    // As an older version saved it: the credentials inside the URLs.
    const withCredentials = server.url('private').replace('http://', `http://deploy:${password}@`);
    await h.ctx.db.kysely
      .updateTable('pipelines')
      .set({
        repository_url: withCredentials,
        steps: JSON.stringify([checkoutStep(withCredentials), { name: 'show', type: 'shell_command', config: { command: 'cat app.txt' } }]),
      })
      .where('id', '=', id)
      .execute();

    const seen: string[] = [];
    const get = async (path: string, token = viewer) => {
      const r = await h.request('GET', path, { token });
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      seen.push(r.text);
      return r;
    };
    const list = await get('/api/pipelines/');
    assert.equal(list.json.results[0].repository_url, server.url('private').replace('http://', 'http://***@'));
    const detail = await get(`/api/pipelines/${id}/`);
    assert.equal(detail.json.steps[0].config.repository, server.url('private').replace('http://', 'http://***@'));

    // Editing another field keeps the stored URL (the engine still needs it) and shows it redacted.
    const renamed = await h.request('PATCH', `/api/pipelines/${id}/`, { token: admin, body: { description: 'still works' } });
    assert.equal(renamed.status, 200, renamed.text);
    seen.push(renamed.text);

    const feed = await connectWs(wsUrl(h, '/ws/pipeline-runs/'), { authorization: `Bearer ${viewer}` });
    const started = await h.request('POST', `/api/pipelines/${id}/run/`, { token: admin, body: {} });
    assert.equal(started.status, 201, started.text);
    seen.push(started.text);
    const runId = started.json.id as number;
    const runFeed = await connectWs(wsUrl(h, `/ws/pipeline-runs/${runId}`), { authorization: `Bearer ${viewer}` });
    const finished = await waitFor(async () => {
      const r = await h.request('GET', `/api/pipeline-runs/${runId}/`, { token: viewer });
      return isFinalStatus(r.json.status) ? r : undefined;
    });
    const checkoutLog = await h.request('GET', `/api/pipeline-runs/${runId}/logs/?step=${finished.json.steps[0].id}`, { token: viewer });
    assert.equal(finished.json.status, 'success', checkoutLog.text);
    await runFeed.closed;
    feed.socket.close();
    seen.push(finished.text, JSON.stringify(feed.messages), JSON.stringify(runFeed.messages));
    assert.ok(runFeed.messages.length > 0);
    await get(`/api/pipelines/${id}/runs/`);
    await get('/api/pipeline-runs/');
    const log = await get(`/api/pipeline-runs/${runId}/logs/`);
    assert.match(log.text, /http:\/\/\*\*\*@127\.0\.0\.1/);
    assert.match(log.text, /ok/);
    assert.ok(server.authorizations.length > 0, 'the credentials reached the git server');

    for (const text of seen) assert.ok(!text.includes(password), `the password leaked: ${text.slice(0, 300)}`);
  });

  test('a webhook whose repository URL carries credentials is recorded and shown without them', async () => {
    const viewer = await h.login();
    const secret = `hook-${randomUUID()}`;
    const payload = JSON.parse(pushFixtures().PUSH.toString('utf8'));
    for (const key of ['clone_url', 'html_url', 'url', 'svn_url']) {
      if (typeof payload.repository[key] === 'string') payload.repository[key] = payload.repository[key].replace('https://', `https://octo:${secret}@`);
    }
    const body = JSON.stringify(payload);
    const r = await postGithub(h, body, githubHeaders(body, 'push'));
    assert.ok(r.status === 202 || r.status === 200, r.text);
    const deliveries = await h.request('GET', '/api/webhook-deliveries/', { token: viewer });
    assert.equal(deliveries.status, 200);
    assert.ok(deliveries.json.results.length > 0);
    assert.ok(!deliveries.text.includes(secret), deliveries.text);
    const stored = await h.ctx.db.kysely.selectFrom('webhook_deliveries').select(['repository']).execute();
    assert.ok(
      stored.every((row) => !String(row.repository).includes(secret)),
      JSON.stringify(stored),
    );
  });
});
