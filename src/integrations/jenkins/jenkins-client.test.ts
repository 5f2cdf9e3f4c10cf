import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { FakeJenkins } from '../../../test/support/fake-jenkins.js';
import { createJenkinsClient, JenkinsClient } from './jenkins-client.js';
import { JenkinsError, type JenkinsErrorReason } from './jenkins-error.js';

let jenkins: FakeJenkins;
before(async () => {
  jenkins = await FakeJenkins.start();
});
after(async () => {
  await jenkins.stop();
});

function client(overrides: Partial<{ url: string; user: string; token: string; timeoutMs: number }> = {}): JenkinsClient {
  return new JenkinsClient({ url: jenkins.url, user: jenkins.user, token: jenkins.token, timeoutMs: 2000, ...overrides });
}

async function rejectsWith(promise: Promise<unknown>, reason: JenkinsErrorReason, message?: RegExp): Promise<JenkinsError> {
  try {
    await promise;
  } catch (thrown) {
    assert.ok(thrown instanceof JenkinsError, `expected JenkinsError, got ${String(thrown)}`);
    assert.equal(thrown.reason, reason, thrown.message);
    if (message) assert.match(thrown.message, message);
    return thrown;
  }
  assert.fail(`expected a JenkinsError ${reason}`);
}

let jobCounter = 0;
function newJob(options: Parameters<FakeJenkins['addJob']>[1] = {}): string {
  const name = `folder-a/job-${++jobCounter}`;
  jenkins.addJob(name, options);
  return name;
}

test('triggering posts the parameters form-encoded, verbatim, with crumb, session cookie and Basic auth', async () => {
  const job = newJob();
  const params = { BRANCH: 'main', FILE: '@/etc/passwd', EVIL: 'a&token=x', MULTI: 'one\ntwo\r\nthree', EMPTY: '' };
  const queued = await client().triggerBuild(job, params);
  assert.equal(queued.merged, false);
  assert.equal(queued.queueUrl, `${jenkins.url}queue/item/${queued.queueId}/`);

  const [post] = jenkins.requestsTo(`/job/${job.replace('/', '/job/')}/buildWithParameters`, 'POST');
  assert.ok(post, 'the trigger reached Jenkins');
  assert.deepEqual([...post.form.entries()], Object.entries(params));
  assert.equal(post.query.size, 0, 'nothing is smuggled into the query string');
  assert.match(post.headers['content-type'] ?? '', /^application\/x-www-form-urlencoded/);
  assert.equal(post.headers.authorization, `Basic ${Buffer.from(`${jenkins.user}:${jenkins.token}`).toString('base64')}`);
  assert.match(String(post.headers['jenkins-crumb']), /^[0-9a-f]{64}$/);
  assert.match(post.headers.cookie ?? '', /^JSESSIONID\.5f1a2b3c=node0/);
});

test('a job without parameters is triggered with POST build', async () => {
  const job = newJob({ parameterized: false });
  const queued = await client().triggerBuild(job);
  assert.ok(queued.queueId > 0);
  assert.equal(jenkins.requestsTo(`${job.split('/')[1]}/build`, 'POST').length, 1);
});

test('job folders and odd names are addressed segment by segment', async () => {
  const job = 'team a/sub?x/my job';
  jenkins.addJob(job);
  await client().triggerBuild(job, { A: '1' });
  const post = jenkins.requests.at(-1)!;
  assert.equal(post.rawUrl, '/job/team%20a/job/sub%3Fx/job/my%20job/buildWithParameters');
});

test('the crumb is fetched once and reused while its session lives', async () => {
  const c = client();
  const job = newJob();
  const before = jenkins.requestsTo('/crumbIssuer/api/json').length;
  await c.triggerBuild(job, { A: '1' });
  await c.triggerBuild(job, { A: '2' });
  assert.equal(jenkins.requestsTo('/crumbIssuer/api/json').length - before, 1);
});

test('a 403 with a stale crumb is retried once with a fresh crumb and session', async () => {
  const c = client();
  const job = newJob();
  await c.triggerBuild(job, { A: '1' });
  jenkins.expireSessions();
  const crumbsBefore = jenkins.requestsTo('/crumbIssuer/api/json').length;
  const queued = await c.triggerBuild(job, { A: '2' });
  assert.ok(queued.queueId > 0);
  assert.equal(jenkins.requestsTo('/crumbIssuer/api/json').length - crumbsBefore, 1);
  const posts = jenkins.requestsTo('/buildWithParameters', 'POST').slice(-2);
  assert.notEqual(posts[0]?.headers.cookie, posts[1]?.headers.cookie, 'the retry uses the new session');
});

test('a POST still refused after a fresh crumb fails as forbidden', async () => {
  const job = newJob();
  jenkins.failNext({ method: 'POST', path: '/buildWithParameters', status: 403, times: 2, body: 'No valid crumb was included in the request' });
  await rejectsWith(client().triggerBuild(job, { A: '1' }), 'forbidden', /HTTP 403: No valid crumb/);
});

test('without a crumb Jenkins refuses the POST with 403 (the fake enforces it)', async () => {
  const job = newJob();
  const response = await fetch(`${jenkins.url}job/${job.replace('/', '/job/')}/buildWithParameters`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${jenkins.user}:${jenkins.token}`).toString('base64')}` },
    body: new URLSearchParams({ A: '1' }),
  });
  assert.equal(response.status, 403);
  assert.match(await response.text(), /No valid crumb/);
});

test('a Jenkins without a crumb issuer (404) is sent POSTs without a crumb', async () => {
  const open = await FakeJenkins.start({ crumbIssuer: false, requireCrumb: false });
  try {
    open.addJob('j');
    const c = new JenkinsClient({ url: open.url, user: open.user, token: open.token });
    await c.triggerBuild('j', { A: '1' });
    const post = open.requestsTo('/buildWithParameters', 'POST')[0]!;
    assert.equal(post.headers['jenkins-crumb'], undefined);
  } finally {
    await open.stop();
  }
});

test('wrong credentials fail as unauthorized', async () => {
  await rejectsWith(client({ token: 'wrong' }).triggerBuild(newJob(), { A: '1' }), 'unauthorized', /HTTP 401/);
});

test('an identical request merged into a queued item (303) names that item', async () => {
  const job = newJob({ build: { queue: ['waiting', 'waiting', 'waiting'] } });
  const first = await client().triggerBuild(job, { A: 'same' });
  const second = await client().triggerBuild(job, { A: 'same' });
  assert.equal(second.merged, true);
  assert.equal(second.queueId, first.queueId);
  const third = await client().triggerBuild(job, { A: 'different' });
  assert.notEqual(third.queueId, first.queueId);
});

test('trigger refusals become typed errors with the reason', async () => {
  await rejectsWith(client().triggerBuild(newJob({ parameterized: false }), { A: '1' }), 'bad_request', /is not parameterized/);
  await rejectsWith(client().triggerBuild(newJob({ disabled: true }), { A: '1' }), 'conflict', /HTTP 409: .*is not buildable/);
  await rejectsWith(client().triggerBuild('no/such-job', { A: '1' }), 'not_found', /HTTP 404/);
  await rejectsWith(client().triggerBuild(newJob({ vetoed: true }), { A: '1' }), 'not_enqueued');
  const job = newJob();
  jenkins.failNext({ path: '/buildWithParameters', status: 500 });
  await rejectsWith(client().triggerBuild(job, { A: '1' }), 'server_error', /HTTP 500/);
  jenkins.failNext({ path: '/buildWithParameters', status: 503 });
  await rejectsWith(client().triggerBuild(job, { A: '1' }), 'server_error', /HTTP 503/);
});

test('bad parameter names are refused before anything is sent', async () => {
  const job = newJob();
  const count = jenkins.requests.length;
  await rejectsWith(client().triggerBuild(job, { 'X=1&delay=0': 'v' }), 'invalid_request', /X=1&delay=0/);
  assert.equal(jenkins.requests.length, count);
});

test('a queue item moves from waiting through blocked and buildable to started', async () => {
  const job = newJob({ build: { queue: ['waiting', 'blocked', 'buildable'] } });
  const c = client();
  const { queueId } = await c.triggerBuild(job, { A: '1' });
  const states = [];
  for (let i = 0; i < 4; i++) states.push(await c.getQueueItem(queueId));
  assert.deepEqual(
    states.map((s) => s.state),
    ['waiting', 'blocked', 'buildable', 'started'],
  );
  assert.equal(states[0]?.state === 'waiting' && states[0].why, 'In the quiet period. Expires in 4.6 sec');
  assert.equal(states[1]?.state === 'blocked' && states[1].why, 'Build #41 is already in progress (ETA: 4 min 59 sec)');
  const started = states[3];
  assert.ok(started?.state === 'started');
  assert.equal(started.build.number, 42);
  assert.equal(started.build.url, `${jenkins.url}job/folder-a/job/${job.split('/')[1]}/42/`);
});

test('a queue item cancelled in Jenkins reports cancelled; an expired one is a clear error', async () => {
  const c = client();
  const cancelled = await c.triggerBuild(newJob({ build: { queue: [], queueOutcome: 'cancelled' } }), { A: '1' });
  assert.equal((await c.getQueueItem(cancelled.queueId)).state, 'cancelled');
  const expired = await c.triggerBuild(newJob({ build: { queue: ['waiting'], queueOutcome: 'expired' } }), { A: '1' });
  assert.equal((await c.getQueueItem(expired.queueId)).state, 'waiting');
  await rejectsWith(c.getQueueItem(expired.queueId), 'queue_item_expired', /no longer exists/);
});

test('cancelQueueItem cancels a waiting item', async () => {
  const c = client();
  const { queueId } = await c.triggerBuild(newJob({ build: { queue: ['waiting', 'waiting'] } }), { A: '1' });
  await c.cancelQueueItem(queueId);
  assert.equal((await c.getQueueItem(queueId)).state, 'cancelled');
  await rejectsWith(c.cancelQueueItem(999_999), 'not_found');
});

async function startedBuild(c: JenkinsClient, job: string): Promise<number> {
  const { queueId } = await c.triggerBuild(job, { A: '1' });
  for (;;) {
    const item = await c.getQueueItem(queueId);
    if (item.state === 'started') return item.build.number;
  }
}

test('a build goes from building through post-production to its result', async () => {
  const c = client();
  const job = newJob({ build: { queue: [], console: ['one\n', 'two\n'], result: 'UNSTABLE', postProductionTicks: 1 } });
  const number = await startedBuild(c, job);
  const phases = [];
  for (let i = 0; i < 4; i++) phases.push(await c.getBuild(job, number));
  assert.deepEqual(
    phases.map((b) => [b.phase, b.result]),
    [
      ['building', null],
      ['post-production', 'UNSTABLE'],
      ['finished', 'UNSTABLE'],
      ['finished', 'UNSTABLE'],
    ],
  );
  assert.equal(phases[0]?.building, true);
  assert.equal(phases[1]?.building, false);
  assert.equal(phases[1]?.inProgress, true);
  assert.equal(phases[3]?.url, `${jenkins.url}job/folder-a/job/${job.split('/')[1]}/${number}/`);
});

test('every Jenkins result is reported as such', async () => {
  const c = client();
  for (const result of ['SUCCESS', 'FAILURE', 'UNSTABLE', 'ABORTED', 'NOT_BUILT'] as const) {
    const job = newJob({ build: { queue: [], result } });
    const number = await startedBuild(c, job);
    const info = await c.getBuild(job, number);
    assert.equal(info.phase, 'finished');
    assert.equal(info.result, result);
  }
});

test('the console is served progressively with X-Text-Size and X-More-Data', async () => {
  const c = client();
  const job = newJob({ build: { queue: [], console: ['Started by user ci-bot\n', 'ünïcode ✓\n'] } });
  const number = await startedBuild(c, job);
  const first = await c.progressiveText(job, number, 0);
  assert.equal(first.text, 'Started by user ci-bot\n');
  assert.equal(first.nextStart, Buffer.byteLength(first.text));
  assert.equal(first.moreData, true);
  const second = await c.progressiveText(job, number, first.nextStart);
  assert.equal(second.text, 'ünïcode ✓\nFinished: SUCCESS\n');
  assert.equal(second.nextStart, first.nextStart + Buffer.byteLength(second.text), 'X-Text-Size counts bytes');
  assert.equal(second.moreData, false);
  const again = await c.progressiveText(job, number, second.nextStart);
  assert.equal(again.text, '');
  assert.equal(again.nextStart, second.nextStart);
  assert.equal(jenkins.requests.at(-1)?.query.get('start'), String(second.nextStart));
});

test('stopBuild aborts a running build', async () => {
  const c = client();
  const job = newJob({ build: { queue: [], console: ['working\n'], hold: true } });
  const number = await startedBuild(c, job);
  assert.equal((await c.getBuild(job, number)).phase, 'building');
  await c.stopBuild(job, number);
  const info = await c.getBuild(job, number);
  assert.deepEqual([info.phase, info.result], ['finished', 'ABORTED']);
  assert.equal(jenkins.build(job, number)?.stopRequests, 1);
  await c.stopBuild(job, number); // idempotent, as in Jenkins
  await rejectsWith(c.stopBuild(job, 9999), 'not_found');
});

test('an unknown build or a 5xx while reading it become typed errors', async () => {
  const c = client();
  const job = newJob({ build: { queue: [] } });
  await rejectsWith(c.getBuild(job, 777), 'not_found', /HTTP 404/);
  const number = await startedBuild(c, job);
  jenkins.failNext({ path: `/${number}/api/json`, status: 502 });
  await rejectsWith(c.getBuild(job, number), 'server_error', /HTTP 502/);
});

test('a Jenkins that is down fails fast as unreachable', async () => {
  const url = await FakeJenkins.closedUrl();
  const c = new JenkinsClient({ url, user: 'u', token: 't', timeoutMs: 2000 });
  await rejectsWith(c.triggerBuild('j', { A: '1' }), 'unreachable', /cannot reach .*ECONNREFUSED/);
  await rejectsWith(c.getQueueItem(1), 'unreachable');
});

test('a Jenkins slower than the timeout fails as timeout', async () => {
  const slow = await FakeJenkins.start();
  try {
    slow.addJob('j', { build: { queue: [] } });
    slow.delay(1000, (r) => r.path.startsWith('/queue/'));
    const c = new JenkinsClient({ url: slow.url, user: slow.user, token: slow.token, timeoutMs: 150 });
    const { queueId } = await c.triggerBuild('j', { A: '1' });
    const startedAt = Date.now();
    await rejectsWith(c.getQueueItem(queueId), 'timeout', /no answer/);
    assert.ok(Date.now() - startedAt < 900, 'the client gave up at its timeout, not when the server answered');
  } finally {
    await slow.stop();
  }
});

test('a base URL with a context path is honoured', async () => {
  const c = new JenkinsClient({ url: `${jenkins.url}jenkins`, user: jenkins.user, token: jenkins.token });
  assert.equal(c.baseUrl, `${jenkins.url}jenkins/`);
  // The fake has no context path, so the request lands on an unknown path: proof the prefix was used.
  await rejectsWith(c.getQueueItem(1), 'queue_item_expired');
  assert.equal(jenkins.requests.at(-1)?.path, '/jenkins/queue/item/1/api/json');
});

test('createJenkinsClient follows the configuration: none, anonymous, or Basic auth', async () => {
  assert.equal(createJenkinsClient(null), null);
  const anonymous = createJenkinsClient({ url: jenkins.url, user: null, token: null })!;
  await rejectsWith(anonymous.getBuild('x', 1), 'unauthorized');
  assert.equal(jenkins.requests.at(-1)?.headers.authorization, undefined);
  const configured = createJenkinsClient({ url: jenkins.url.replace(/\/$/, ''), user: jenkins.user, token: jenkins.token })!;
  await configured.triggerBuild(newJob(), { A: '1' });
});
