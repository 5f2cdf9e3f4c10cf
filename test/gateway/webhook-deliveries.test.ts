/**
 * Deduplication (sequential and concurrent), the deliveries API (filters, why a push did not
 * build), redeliver, and per-source rate limiting, against the real servers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Harness } from '../support/api-harness.js';
import {
  createWebhookPipeline,
  githubHeaders,
  gitlabHeaders,
  postGithub,
  postGitlab,
  pushFixtures,
  runCount as pipelineRunCount,
  startGateway,
} from './gateway-support.js';

const { PUSH, GL_PUSH } = pushFixtures(); // Codertocat/Hello-World and gitlab-org/hello-world, master

describe('webhook deliveries', () => {
  let h: Harness;
  let admin: string;
  let pipelineId: number;

  before(async () => {
    h = await startGateway();
    admin = await h.login();
    pipelineId = await createWebhookPipeline(h, admin, {
      name: 'hello',
      repository_url: 'https://github.com/codertocat/hello-world',
      branch: 'master',
      trigger_events: ['push'],
    });
  });
  after(() => h.close());

  const runCount = () => pipelineRunCount(h, admin, pipelineId);

  test('the same X-GitHub-Delivery twice → 200 with the first delivery runs, no new run', async () => {
    const headers = githubHeaders(PUSH, 'push');
    const first = await postGithub(h, PUSH, headers);
    assert.equal(first.status, 202, first.text);
    assert.equal(first.json.triggered_runs.length, 1);
    const count = await runCount();
    const again = await postGithub(h, PUSH, headers);
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.json, first.json);
    assert.equal(await runCount(), count);
  });

  test('20 concurrent copies of one delivery start exactly one run and all answer with it', async () => {
    const before = await runCount();
    const headers = githubHeaders(PUSH, 'push');
    const answers = await Promise.all(Array.from({ length: 20 }, () => postGithub(h, PUSH, headers)));
    assert.deepEqual(answers.map((a) => a.status).sort(), [...Array(19).fill(200), 202]);
    const runs = new Set(answers.map((a) => JSON.stringify(a.json.triggered_runs)));
    assert.equal(runs.size, 1, `every answer names the same runs: ${[...runs].join(' | ')}`);
    assert.equal(JSON.parse([...runs][0]!).length, 1);
    assert.equal(await runCount(), before + 1);
  });

  test('GitLab deduplicates on Idempotency-Key, else X-Gitlab-Event-UUID', async () => {
    const r1 = await postGitlab(h, GL_PUSH, gitlabHeaders('Push Hook', 'key-1'));
    const r2 = await postGitlab(h, GL_PUSH, gitlabHeaders('Push Hook', 'key-1'));
    assert.deepEqual([r1.status, r2.status], [202, 200]);
    const { 'idempotency-key': _k, ...noKey } = gitlabHeaders('Push Hook');
    const uuid = randomUUID();
    const u1 = await postGitlab(h, GL_PUSH, { ...noKey, 'x-gitlab-event-uuid': uuid });
    const u2 = await postGitlab(h, GL_PUSH, { ...noKey, 'x-gitlab-event-uuid': uuid });
    assert.deepEqual([u1.status, u2.status], [202, 200]);
    assert.equal(u1.json.delivery_id, uuid);
  });

  test('the deliveries API says why a push did not build, and filters by provider and verdict', async () => {
    const payload = JSON.parse(PUSH.toString('utf8'));
    payload.ref = 'refs/heads/feature/x';
    const body = JSON.stringify(payload);
    const id = randomUUID();
    assert.equal((await postGithub(h, body, githubHeaders(body, 'push', id))).status, 202);
    const tagPayload = { ...payload, ref: 'refs/tags/v9' };
    const tagBody = JSON.stringify(tagPayload);
    const tagId = randomUUID();
    await postGithub(h, tagBody, githubHeaders(tagBody, 'push', tagId));

    const ignored = await h.request('GET', '/api/webhook-deliveries/?provider=github&verdict=ignored', { token: admin });
    assert.equal(ignored.status, 200);
    const branch = ignored.json.results.find((d: { delivery_id: string }) => d.delivery_id === id);
    assert.match(branch.reason, /matches the branch "feature\/x" \(#\d+ master\)/);
    assert.equal(branch.repository, 'https://github.com/Codertocat/Hello-World.git');
    assert.equal(branch.ref, 'refs/heads/feature/x');
    const tag = ignored.json.results.find((d: { delivery_id: string }) => d.delivery_id === tagId);
    assert.match(tag.reason, /matches the tag "v9"/);
    assert.ok(ignored.json.results.every((d: { provider: string; verdict: string }) => d.provider === 'github' && d.verdict === 'ignored'));

    const triggered = await h.request('GET', '/api/webhook-deliveries/?verdict=triggered&page_size=1', { token: admin });
    assert.equal(triggered.json.results.length, 1);
    assert.ok(triggered.json.count >= 2);
    assert.ok(triggered.json.next);
    const keys = Object.keys(triggered.json.results[0]).sort();
    assert.deepEqual(
      keys,
      ['action', 'commit', 'delivery_id', 'event', 'id', 'provider', 'reason', 'received_at', 'ref', 'repository', 'run_results', 'runs', 'verdict'].sort(),
    );
    assert.equal((await h.request('GET', '/api/webhook-deliveries/?verdict=maybe', { token: admin })).status, 400);
    assert.equal((await h.request('GET', '/api/webhook-deliveries/')).status, 401);
  });

  test("redeliver evaluates the stored delivery against today's pipelines; viewers may not", async () => {
    const payload = JSON.parse(PUSH.toString('utf8'));
    payload.ref = 'refs/heads/release/1.0';
    const body = JSON.stringify(payload);
    const deliveryId = randomUUID();
    assert.deepEqual((await postGithub(h, body, githubHeaders(body, 'push', deliveryId))).json.triggered_runs, []);
    const list = await h.request('GET', '/api/webhook-deliveries/?verdict=ignored&page_size=100', { token: admin });
    const stored = list.json.results.find((d: { delivery_id: string }) => d.delivery_id === deliveryId);

    const viewer = await h.userToken('watcher', 'viewer');
    assert.equal((await h.request('POST', `/api/webhook-deliveries/${stored.id}/redeliver/`, { token: viewer })).status, 403);

    // Nothing matches yet: redeliver says so again.
    const again = await h.request('POST', `/api/webhook-deliveries/${stored.id}/redeliver/`, { token: admin });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.json.triggered_runs, []);

    const p = await h.request('PATCH', `/api/pipelines/${pipelineId}/`, { token: admin, body: { branch: 'release/*' } });
    assert.equal(p.status, 200, p.text);
    const dev = await h.userToken('dev', 'developer');
    const r = await h.request('POST', `/api/webhook-deliveries/${stored.id}/redeliver/`, { token: dev });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.triggered_runs.length, 1);
    assert.equal(r.json.delivery.verdict, 'triggered');
    assert.deepEqual(r.json.delivery.runs, r.json.triggered_runs);
    const run = (await h.request('GET', `/api/pipeline-runs/${r.json.triggered_runs[0]}/`, { token: admin })).json;
    assert.equal(run.commit, payload.head_commit.id);
    assert.equal(run.branch, 'release/1.0');
    assert.equal(run.trigger.delivery_id, deliveryId);
    assert.equal(run.trigger.user.username, 'dev');

    const rejected = await h.request('GET', '/api/webhook-deliveries/?verdict=rejected', { token: admin });
    if (rejected.json.count > 0)
      assert.equal((await h.request('POST', `/api/webhook-deliveries/${rejected.json.results[0].id}/redeliver/`, { token: admin })).status, 409);
    assert.equal((await h.request('POST', '/api/webhook-deliveries/999999/redeliver/', { token: admin })).status, 404);
  });
});

describe('webhook rate limiting per source', () => {
  let h: Harness;
  before(async () => (h = await startGateway({}, {}, { webhookRateLimit: 5 })));
  after(() => h.close());

  test('past the per-minute limit a source gets 429 RATE_LIMIT_EXCEEDED with Retry-After, before any work', async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 7; i++) {
      last = await postGithub(h, PUSH, githubHeaders(PUSH, 'push'));
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [202, 202, 202, 202, 202, 429, 429]);
    assert.equal(last!.json.error.code, 'RATE_LIMIT_EXCEEDED');
    assert.ok(Number(last!.headers.get('retry-after')) >= 1);
  });
});
