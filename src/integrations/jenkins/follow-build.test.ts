import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { FakeJenkins } from '../../../test/support/fake-jenkins.js';
import { JenkinsClient } from './jenkins-client.js';
import { JenkinsError } from './jenkins-error.js';

let jenkins: FakeJenkins;
let client: JenkinsClient;
before(async () => {
  jenkins = await FakeJenkins.start();
  client = new JenkinsClient({ url: jenkins.url, user: jenkins.user, token: jenkins.token, timeoutMs: 2000 });
});
after(async () => {
  await jenkins.stop();
});

let counter = 0;
function newJob(options: Parameters<FakeJenkins['addJob']>[1]): string {
  const name = `folder-a/follow-${++counter}`;
  jenkins.addJob(name, options);
  return name;
}

test('a build is followed from the queue to its result, with the whole console streamed in order', async () => {
  const pieces = ['Started by user ci-bot\n', '[Pipeline] sh\n', '+ make test\n', 'ok\n'];
  const job = newJob({ build: { queue: ['waiting', 'blocked', 'buildable'], console: pieces, postProductionTicks: 2 } });
  const seen: string[] = [];
  const events: string[] = [];
  const result = await client.followBuild({
    job,
    params: { BRANCH: 'main' },
    pollMs: 5,
    onConsole: (t) => seen.push(t),
    onQueued: (q) => events.push(`queued ${q.queueId}`),
    onStarted: (b) => events.push(`started ${b.number}`),
  });
  assert.deepEqual(result, {
    result: 'SUCCESS',
    number: 42,
    url: `${jenkins.url}job/folder-a/job/${job.split('/')[1]}/42/`,
    queueId: result.queueId,
    aborted: false,
  });
  assert.equal(seen.join(''), `${pieces.join('')}Finished: SUCCESS\n`);
  assert.ok(seen.length >= 2, 'the console arrived in several pieces');
  assert.deepEqual(events, [`queued ${result.queueId}`, 'started 42']);
  // Each console poll asked for the offset the previous answer gave.
  const starts = jenkins
    .requestsTo('/logText/progressiveText')
    .filter((r) => r.path.includes(job.split('/')[1]!))
    .map((r) => Number(r.query.get('start')));
  assert.deepEqual(
    starts,
    [...starts].sort((a, b) => a - b),
  );
  assert.equal(starts[0], 0);
});

test('a failing build resolves with its result, not an exception', async () => {
  for (const result of ['FAILURE', 'UNSTABLE', 'NOT_BUILT'] as const) {
    const job = newJob({ build: { queue: [], console: ['x\n'], result } });
    const outcome = await client.followBuild({ job, params: { A: '1' }, pollMs: 1 });
    assert.equal(outcome.result, result);
    assert.equal(outcome.aborted, false);
  }
});

test('multi-byte characters split across console pieces arrive intact', async () => {
  const text = 'naïve ✓ 日本語\n';
  const bytes = Buffer.from(text);
  const cut = bytes.indexOf(Buffer.from('✓')) + 1; // inside the 3-byte "✓"
  const job = newJob({ build: { queue: [], console: [bytes.subarray(0, cut), bytes.subarray(cut)] } });
  const pieces: string[] = [];
  await client.followBuild({ job, pollMs: 1, onConsole: (t) => pieces.push(t) });
  assert.ok(pieces.length >= 2, 'the text arrived in more than one piece');
  assert.equal(pieces.join(''), `${text}Finished: SUCCESS\n`);
  assert.ok(
    pieces.every((p) => !p.includes('\uFFFD')),
    'no replacement characters',
  );
});

test('aborting a running build stops it in Jenkins and resolves ABORTED', async () => {
  const job = newJob({ build: { queue: [], console: ['step 1\n'], hold: true } });
  const controller = new AbortController();
  let seen = '';
  const promise = client.followBuild({
    job,
    signal: controller.signal,
    pollMs: 10,
    onConsole: (t) => {
      seen += t;
      if (seen.includes('step 1')) controller.abort();
    },
  });
  const outcome = await promise;
  assert.equal(outcome.result, 'ABORTED');
  assert.equal(outcome.aborted, true);
  assert.equal(outcome.number, 42);
  const build = jenkins.build(job, 42)!;
  assert.equal(build.stopRequests, 1);
  assert.equal(build.forcedResult, 'ABORTED');
});

test('aborting while queued cancels the queue item and starts nothing', async () => {
  const job = newJob({ build: { queue: Array(1000).fill('waiting') } });
  const controller = new AbortController();
  const promise = client.followBuild({ job, signal: controller.signal, pollMs: 5, onQueued: () => setTimeout(() => controller.abort(), 30) });
  const outcome = await promise;
  assert.deepEqual([outcome.result, outcome.number, outcome.aborted], ['ABORTED', null, true]);
  const item = jenkins.queueItems.get(outcome.queueId!)!;
  assert.equal(item.cancelled, true);
  assert.equal(item.build, null);
  assert.equal(jenkins.requestsTo('/queue/cancelItem', 'POST').at(-1)?.query.get('id'), String(outcome.queueId));
});

test('an already aborted signal triggers nothing', async () => {
  const job = newJob({ build: {} });
  const count = jenkins.requests.length;
  const outcome = await client.followBuild({ job, signal: AbortSignal.abort() });
  assert.deepEqual([outcome.result, outcome.number, outcome.queueId], ['ABORTED', null, null]);
  assert.equal(jenkins.requests.length, count);
});

test('a queue item cancelled inside Jenkins resolves ABORTED without a build', async () => {
  const job = newJob({ build: { queue: ['waiting'], queueOutcome: 'cancelled' } });
  const outcome = await client.followBuild({ job, pollMs: 1 });
  assert.deepEqual([outcome.result, outcome.number, outcome.aborted], ['ABORTED', null, false]);
});

test('an expired queue item rejects with queue_item_expired', async () => {
  const job = newJob({ build: { queue: ['waiting'], queueOutcome: 'expired' } });
  await assert.rejects(client.followBuild({ job, pollMs: 1 }), (e: unknown) => e instanceof JenkinsError && e.reason === 'queue_item_expired');
});

test('transient failures while polling are retried; persistent ones give up', async () => {
  const job = newJob({ build: { queue: ['waiting'], console: ['a\n'] } });
  jenkins.failNext({ path: /^\/queue\/item\//, status: 503, times: 2 });
  const outcome = await client.followBuild({ job, pollMs: 1 });
  assert.equal(outcome.result, 'SUCCESS');

  const job2 = newJob({ build: { queue: ['waiting'] } });
  jenkins.failNext({ path: /^\/queue\/item\//, status: 500, times: 10 });
  await assert.rejects(
    client.followBuild({ job: job2, pollMs: 1, maxTransientErrors: 3 }),
    (e: unknown) => e instanceof JenkinsError && e.reason === 'server_error',
  );
});

test('a trigger refusal rejects with the typed error', async () => {
  const job = newJob({ disabled: true });
  await assert.rejects(client.followBuild({ job, params: { A: '1' } }), (e: unknown) => e instanceof JenkinsError && e.reason === 'conflict');
});
