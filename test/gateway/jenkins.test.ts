/**
 * The Jenkins integration through the real gateway against the fake Jenkins over real HTTP:
 * trigger → followed to the end (number, URL, result, console), parameters sent verbatim and
 * form-encoded, bad names refused before anything is sent, and a Jenkins that is down, slow,
 * refusing, or answering 403 for a stale crumb.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness } from '../support/api-harness.js';
import { FakeJenkins } from '../support/fake-jenkins.js';
import { waitFor } from '../support/wait.js';
import { gatewayRequest, startGateway } from './gateway-support.js';

const jenkinsEnv = (url: string, jenkins?: FakeJenkins) => ({
  ANSFLOW_JENKINS_URL: url,
  ANSFLOW_JENKINS_USER: jenkins?.user ?? 'ci-bot',
  ANSFLOW_JENKINS_TOKEN: jenkins?.token ?? 'api-token',
});
const FAST = { jenkinsPollMs: 10, jenkinsTimeoutMs: 500 };

describe('Jenkins integration', () => {
  let jenkins: FakeJenkins;
  let h: Harness;
  let admin: string;
  before(async () => {
    jenkins = await FakeJenkins.start();
    jenkins.addJob('build-frontend', {
      build: { queue: ['waiting', 'buildable'], console: ['Started by AnsFlow\n', 'npm ci\n', 'ok ✓\n'], result: 'SUCCESS', postProductionTicks: 1 },
    });
    jenkins.addJob('folder-a/deploy', { build: { console: ['deploying\n'], result: 'FAILURE' } });
    h = await startGateway({}, jenkinsEnv(jenkins.url, jenkins), FAST);
    admin = await h.login();
  });
  after(async () => {
    await h.close();
    await jenkins.stop();
  });

  const trigger = (body: unknown, token = admin) =>
    gatewayRequest(h, 'POST', '/api/v1/integrations/jenkins/trigger', { token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const build = (id: number) => gatewayRequest(h, 'GET', `/api/v1/integrations/jenkins/builds/${id}`, { token: admin });
  const finished = (id: number) =>
    waitFor(
      async () => {
        const r = await build(id);
        return ['finished', 'error'].includes(r.json.status) ? r.json : undefined;
      },
      10000,
      `Jenkins build ${id} to finish`,
    );

  test('the document example: 202 with an id that follows the build to its result and console', async () => {
    const r = await trigger({ job_name: 'build-frontend', parameters: { BRANCH: 'main', ENVIRONMENT: 'staging' } });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.status, 'queued');
    assert.equal(r.json.job_name, 'build-frontend');
    assert.ok(Number.isInteger(r.json.id) && Number.isInteger(r.json.queue_id));
    const done = await finished(r.json.id);
    assert.equal(done.status, 'finished');
    assert.equal(done.result, 'SUCCESS');
    assert.equal(done.build_number, 42);
    assert.equal(done.build_url, `${jenkins.url}job/build-frontend/42/`);
    assert.match(done.console, /Started by AnsFlow\nnpm ci\nok ✓\n/);
    assert.ok(done.finished_at);
    assert.deepEqual(done.parameters, { BRANCH: 'main', ENVIRONMENT: 'staging' });
  });

  test('parameter values are sent verbatim, form-encoded: @/etc/passwd, a&token=x, a newline', async () => {
    const parameters = { FILE: '@/etc/passwd', Q: 'a&token=x', MULTI: 'line1\nline2' };
    const r = await trigger({ job_name: 'build-frontend', parameters });
    assert.equal(r.status, 202, r.text);
    const sent = jenkins.requestsTo('/job/build-frontend/buildWithParameters', 'POST').at(-1)!;
    assert.match(String(sent.headers['content-type']), /^application\/x-www-form-urlencoded/);
    assert.deepEqual([...sent.form.entries()], Object.entries(parameters));
    assert.equal(sent.form.get('token'), null, 'no parameter smuggled in');
    assert.match(sent.body, /FILE=%40%2Fetc%2Fpasswd/);
    await finished(r.json.id);
  });

  test('parameter names like X=1&delay=0 are refused with 400 before anything reaches Jenkins', async () => {
    const before = jenkins.requests.length;
    for (const name of ['X=1&delay=0', 'a b', '', 'x\ny']) {
      const r = await trigger({ job_name: 'build-frontend', parameters: { [name]: '1' } });
      assert.equal(r.status, 400, `${JSON.stringify(name)}: ${r.text}`);
      assert.equal(r.json.error.code, 'VALIDATION_ERROR');
    }
    for (const job_name of ['../script', 'a//b']) assert.equal((await trigger({ job_name })).status, 400);
    assert.equal((await trigger({ job_name: 'x', parameters: { A: 1 } })).status, 400, 'values must be strings');
    assert.equal(jenkins.requests.length, before);
  });

  test('a job in folders, and a FAILURE result', async () => {
    const r = await trigger({ job_name: 'folder-a/deploy' });
    assert.equal(r.status, 202, r.text);
    const done = await finished(r.json.id);
    assert.equal(done.result, 'FAILURE');
    assert.equal(done.build_url, `${jenkins.url}job/folder-a/job/deploy/42/`);
    assert.ok(jenkins.requestsTo('/job/folder-a/job/deploy/build', 'POST').length === 1);
  });

  test('a jenkins_job step of a pipeline run: the job console streams into the step log, the result maps to the step', async () => {
    const p = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: { name: 'with-jenkins', steps: [{ name: 'remote', type: 'jenkins_job', config: { job_name: 'build-frontend', parameters: { BRANCH: 'main' } } }] },
    });
    assert.equal(p.status, 201, p.text);
    const run = await h.request('POST', `/api/pipelines/${p.json.id}/run/`, { token: admin, body: {} });
    const done = await waitFor(
      async () => {
        const r = (await h.request('GET', `/api/pipeline-runs/${run.json.id}/`, { token: admin })).json;
        return ['success', 'failed', 'error'].includes(r.status) ? r : undefined;
      },
      20000,
      'the run with a Jenkins step',
    );
    assert.equal(done.status, 'success', JSON.stringify(done));
    const log = (await h.request('GET', `/api/pipeline-runs/${run.json.id}/logs/`, { token: admin })).text;
    assert.match(log, /Started by AnsFlow\nnpm ci\nok ✓\n/);
  });

  test('authentication: no token 401, a viewer 403; unknown build 404', async () => {
    const anon = await gatewayRequest(h, 'POST', '/api/v1/integrations/jenkins/trigger', {
      headers: { 'content-type': 'application/json' },
      body: '{"job_name":"x"}',
    });
    assert.equal(anon.status, 401);
    const viewer = await h.userToken('jv', 'viewer');
    assert.equal((await trigger({ job_name: 'build-frontend' }, viewer)).status, 403);
    assert.equal((await build(999999)).status, 404);
    assert.equal((await gatewayRequest(h, 'GET', '/api/v1/integrations/jenkins/builds/1')).status, 401);
  });

  test('a stale crumb (403) is renewed once and the build is queued', async () => {
    await trigger({ job_name: 'build-frontend' });
    jenkins.expireSessions();
    const r = await trigger({ job_name: 'build-frontend' });
    assert.equal(r.status, 202, r.text);
    await finished(r.json.id);
  });

  test('Jenkins refusing (403 every time, unknown job, disabled job) → 502 UPSTREAM_ERROR with the reason', async () => {
    jenkins.failNext({ method: 'POST', path: /buildWithParameters$/, status: 403, times: 5 });
    const refused = await trigger({ job_name: 'build-frontend', parameters: { A: '1' } });
    assert.equal(refused.status, 502, refused.text);
    assert.equal(refused.json.error.code, 'UPSTREAM_ERROR');
    assert.equal(refused.json.error.details.reason, 'forbidden');
    const unknown = await trigger({ job_name: 'no-such-job' });
    assert.equal(unknown.status, 502);
    assert.equal(unknown.json.error.details.reason, 'not_found');
    jenkins.addJob('disabled', { disabled: true });
    const disabled = await trigger({ job_name: 'disabled' });
    assert.equal(disabled.status, 502);
    assert.equal(disabled.json.error.details.reason, 'conflict');
  });
});

describe('Jenkins unavailable', () => {
  test('Jenkins down (connection refused) → 502 unreachable', async () => {
    const h = await startGateway({}, jenkinsEnv(await FakeJenkins.closedUrl()), FAST);
    try {
      const admin = await h.login();
      const r = await gatewayRequest(h, 'POST', '/api/v1/integrations/jenkins/trigger', {
        token: admin,
        headers: { 'content-type': 'application/json' },
        body: '{"job_name":"build"}',
      });
      assert.equal(r.status, 502, r.text);
      assert.equal(r.json.error.code, 'UPSTREAM_ERROR');
      assert.equal(r.json.error.details.reason, 'unreachable');
    } finally {
      await h.close();
    }
  });

  test('Jenkins slower than the timeout → 502 timeout, answered promptly', async () => {
    const jenkins = await FakeJenkins.start();
    jenkins.addJob('build');
    jenkins.delay(3000);
    const h = await startGateway({}, jenkinsEnv(jenkins.url, jenkins), FAST);
    try {
      const admin = await h.login();
      const started = Date.now();
      const r = await gatewayRequest(h, 'POST', '/api/v1/integrations/jenkins/trigger', {
        token: admin,
        headers: { 'content-type': 'application/json' },
        body: '{"job_name":"build"}',
      });
      assert.equal(r.status, 502, r.text);
      assert.equal(r.json.error.details.reason, 'timeout');
      assert.ok(Date.now() - started < 2500);
    } finally {
      await h.close();
      await jenkins.stop();
    }
  });

  test('Jenkins not configured → 502 with the reason', async () => {
    const h = await startGateway();
    try {
      const admin = await h.login();
      const r = await gatewayRequest(h, 'POST', '/api/v1/integrations/jenkins/trigger', {
        token: admin,
        headers: { 'content-type': 'application/json' },
        body: '{"job_name":"build"}',
      });
      assert.equal(r.status, 502);
      assert.match(r.json.error.message, /not configured/);
    } finally {
      await h.close();
    }
  });
});
