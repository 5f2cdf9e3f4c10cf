/**
 * Commit statuses end to end: signed GitHub and GitLab deliveries start real runs, and the
 * stand-in forge (test/support/fake-forge.ts, both documented APIs over real HTTP, checking the
 * auth header, path and body of every call) receives each run's statuses in order, with the
 * context `ansflow/<pipeline>` and a link to the run's page. Outages and rate limits are retried
 * (honouring Retry-After and X-RateLimit-Reset) without holding up the run; the run's API body
 * shows what was delivered and why not; a pipeline's forge credential replaces the server token.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Harness } from '../support/api-harness.js';
import { readJsonFixture } from '../support/fixtures.js';
import { isFinalStatus } from '../support/run-status.js';
import { waitFor } from '../support/wait.js';
import { startFakeForge, type FakeForge, type ReceivedStatus } from '../support/fake-forge.js';
import { createPipeline, githubHeaders, gitlabHeaders, postGithub, postGitlab, startGateway } from './gateway-support.js';

type Json = Record<string, any>;

const GITHUB_TOKEN = `ghp_${randomUUID().replace(/-/g, '')}`;
const GITLAB_TOKEN = `glpat-${randomUUID().replace(/-/g, '')}`;
const CREDENTIAL_TOKEN = `ghp_cred_${randomUUID().replace(/-/g, '')}`;
const PUBLIC_URL = 'https://ci.example.com';

const sha = () => randomBytes(20).toString('hex');

/** GitHub's push (Codertocat/Hello-World, master) at a new commit. */
function githubPush(commit: string, message = 'Update README'): string {
  const body = readJsonFixture<Json>('webhooks', 'github', 'push.go-scm.json');
  body.after = commit;
  body.head_commit = { ...body.head_commit, id: commit, message };
  return JSON.stringify(body);
}

/** GitLab's opened merge request (gitlabhq/gitlab-test, ms-viewport → master) at a new commit. */
function gitlabMergeRequest(commit: string): string {
  const body = readJsonFixture<Json>('webhooks', 'gitlab', 'merge_request.docs.json');
  body.object_attributes.last_commit = { ...body.object_attributes.last_commit, id: commit };
  return JSON.stringify(body);
}

/** The states received for a commit, oldest first. */
const states = (received: ReceivedStatus[]) => received.map((s) => s.state);

describe('commit statuses on GitHub and GitLab', () => {
  let h: Harness;
  let admin: string;
  let forge: FakeForge;
  let github: number;

  before(async () => {
    forge = await startFakeForge({ github: [GITHUB_TOKEN, CREDENTIAL_TOKEN], gitlab: [GITLAB_TOKEN] });
    h = await startGateway(
      {},
      {
        ANSFLOW_PUBLIC_URL: `${PUBLIC_URL}/`,
        ANSFLOW_GITHUB_API_URL: `${forge.url}/api/v3`,
        ANSFLOW_GITHUB_TOKEN: GITHUB_TOKEN,
        ANSFLOW_GITLAB_API_URL: `${forge.url}/api/v4`,
        ANSFLOW_GITLAB_TOKEN: GITLAB_TOKEN,
      },
    );
    admin = await h.login();
    github = await createPipeline(h, admin, {
      name: 'hello build',
      repository_url: 'https://github.com/Codertocat/Hello-World',
      branch: 'master',
      trigger_events: ['push'],
      steps: [{ name: 'build', type: 'shell_command', config: { command: 'sleep 1' } }],
    });
    await createPipeline(h, admin, {
      name: 'gl-test',
      repository_url: 'http://example.com/gitlabhq/gitlab-test',
      branch: 'master',
      trigger_events: ['pull_request'],
      steps: [
        {
          name: 'check',
          type: 'shell_command',
          config: { command: 'echo "pr=[$ANSFLOW_PR_NUMBER] $ANSFLOW_PR_SOURCE_BRANCH->$ANSFLOW_PR_TARGET_BRANCH"; sleep 1; exit 3' },
        },
      ],
    });
  });
  after(async () => {
    await h?.close();
    await forge?.close();
  });

  const run = async (id: number): Promise<Json> => (await h.request('GET', `/api/pipeline-runs/${id}/`, { token: admin })).json;
  const finished = (id: number) => waitFor(async () => ((r) => (isFinalStatus(r.status) ? r : undefined))(await run(id)), 30000, `run ${id} to finish`);
  /** Waits until the commit's statuses for `context` end with a final state, and returns them. */
  const finalStatuses = (commit: string, context: string, finalState: string, timeoutMs = 30000) =>
    waitFor(
      async () => {
        const got = forge.statusesOf(commit, context);
        return got.at(-1)?.state === finalState ? got : undefined;
      },
      timeoutMs,
      `a ${finalState} status for ${commit}`,
    );

  async function pushGithub(commit: string, message?: string): Promise<number> {
    const body = githubPush(commit, message);
    const r = await postGithub(h, body, githubHeaders(body, 'push'));
    assert.equal(r.status, 202, r.text);
    const ids = r.json.triggered_runs as number[];
    const mine = [];
    for (const id of ids) if ((await run(id)).pipeline.id === github) mine.push(id);
    assert.equal(mine.length, 1, r.text);
    return mine[0]!;
  }

  test('a GitHub push: pending, then success, on the pushed commit, with the run link and context', async () => {
    const commit = sha();
    const runId = await pushGithub(commit);
    const received = await finalStatuses(commit, 'ansflow/hello build', 'success');
    assert.deepEqual(forge.violations, []);
    // Never out of order: pending states, then the final one, once.
    assert.ok(received.length >= 2, `at least a pending before success: ${JSON.stringify(states(received))}`);
    assert.deepEqual(states(received).slice(0, -1), Array(received.length - 1).fill('pending'));
    for (const status of received) {
      assert.equal(status.forge, 'github');
      assert.equal(status.repository, 'Codertocat/Hello-World');
      assert.equal(status.target_url, `${PUBLIC_URL}/runs/${runId}`);
      assert.equal(status.token, GITHUB_TOKEN);
    }
    assert.equal(received.at(-1)!.description, 'passed');

    const body = await finished(runId);
    assert.equal(body.status, 'success');
    const shown = await waitFor(async () => {
      const r = await run(runId);
      return r.commit_statuses.every((s: Json) => s.outcome !== 'pending') ? r.commit_statuses : undefined;
    });
    assert.deepEqual(
      shown.map((s: Json) => [s.state, s.outcome]).filter(([, o]: string[]) => o === 'delivered'),
      received.map((s) => [s.state, 'delivered']),
      'the run shows exactly what the forge received',
    );
    assert.equal(shown.at(-1).context, 'ansflow/hello build');
    assert.equal(shown.at(-1).sha, commit);
    assert.ok(!JSON.stringify(shown).includes(GITHUB_TOKEN), 'no token in the API body');
  });

  test('a GitLab merge request into the pipeline branch: pending, running, failed, on the project path; steps get ANSFLOW_PR_*', async () => {
    const commit = sha();
    const body = gitlabMergeRequest(commit);
    const r = await postGitlab(h, body, gitlabHeaders('Merge Request Hook'));
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.triggered_runs.length, 1, `matched on the target branch (master), not the source (ms-viewport): ${r.text}`);
    const runId = r.json.triggered_runs[0] as number;
    const received = await finalStatuses(commit, 'ansflow/gl-test', 'failed');
    assert.deepEqual(forge.violations, []);
    const order = states(received);
    assert.equal(order.at(-1), 'failed');
    assert.ok(order.includes('running'), JSON.stringify(order));
    assert.deepEqual(
      order.slice(0, -1),
      order.slice(0, -1).sort((a, b) => ['pending', 'running'].indexOf(a) - ['pending', 'running'].indexOf(b)),
    );
    assert.equal(received[0]!.repository, 'gitlabhq/gitlab-test');
    assert.ok(
      forge.calls.some((c) => c.path === `/api/v4/projects/gitlabhq%2Fgitlab-test/statuses/${commit}`),
      'the path is URL-encoded',
    );
    const log = (await h.request('GET', `/api/pipeline-runs/${runId}/logs/`, { token: admin })).text;
    assert.match(log, /pr=\[1\] ms-viewport->master/);
    assert.deepEqual((await run(runId)).trigger.pull_request, { number: 1, source_branch: 'ms-viewport', target_branch: 'master' });
  });

  test('while the forge is down the run is not held up; the statuses arrive in order once it is back', async () => {
    forge.down();
    const commit = sha();
    const runId = await pushGithub(commit);
    const body = await finished(runId);
    assert.equal(body.status, 'success', 'the run finished while the forge was down');
    const waiting = await waitFor(async () => {
      const statuses = (await run(runId)).commit_statuses as Json[];
      const final = statuses.find((s) => s.state === 'success');
      return final && final.outcome === 'pending' && final.last_error ? statuses : undefined;
    });
    assert.match(waiting.at(-1)!.last_error, /could not be reached/);
    assert.ok(waiting.at(-1)!.next_attempt_at);
    assert.equal(forge.statusesOf(commit).length, 0);
    forge.up();
    const received = await finalStatuses(commit, 'ansflow/hello build', 'success');
    assert.deepEqual(states(received).slice(0, -1), Array(received.length - 1).fill('pending'));
    const shown = await waitFor(async () => ((s) => (s.at(-1)?.outcome === 'delivered' ? s : undefined))((await run(runId)).commit_statuses as Json[]));
    assert.ok(shown.at(-1)!.attempts >= 2, JSON.stringify(shown));
    assert.deepEqual(forge.violations, []);
  });

  test('rate limits and 5xx are retried, honouring X-RateLimit-Reset and Retry-After', async () => {
    const resetAt = Math.ceil(Date.now() / 1000) + 2;
    forge.failNext(
      { status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(resetAt) }, body: { message: 'API rate limit exceeded' } },
      { status: 429, headers: { 'retry-after': '1' }, body: { message: 'You have exceeded a secondary rate limit' } },
      { status: 502, headers: { 'retry-after': '1' }, body: { message: 'Server Error' } },
    );
    const callsBefore = forge.calls.length;
    const commit = sha();
    const runId = await pushGithub(commit);
    const received = await finalStatuses(commit, 'ansflow/hello build', 'success', 60000);
    const calls = forge.calls.slice(callsBefore).filter((c) => c.path.endsWith(`/statuses/${commit}`));
    assert.deepEqual(
      calls.slice(0, 3).map((c) => c.status),
      [403, 429, 502],
    );
    assert.ok(calls[1]!.at >= resetAt * 1000 - 5, `the retry after the 403 waited for X-RateLimit-Reset (${calls[1]!.at} vs ${resetAt * 1000})`);
    assert.ok(calls[2]!.at - calls[1]!.at >= 990, 'the retry after the 429 waited for Retry-After');
    assert.ok(calls[3]!.at - calls[2]!.at >= 990, 'the retry after the 502 waited for Retry-After');
    assert.deepEqual(states(received).slice(0, -1), Array(received.length - 1).fill('pending'));
    assert.equal((await finished(runId)).status, 'success');
    assert.deepEqual(forge.violations, []);
  });

  test("a pipeline's forge credential replaces the server token; a refused token shows why on the run", async () => {
    const credential = await h.request('POST', '/api/credentials/', {
      token: admin,
      body: { name: 'gh-status', kind: 'token', secret: { token: CREDENTIAL_TOKEN } },
    });
    assert.equal(credential.status, 201, credential.text);
    const wrong = await h.request('POST', '/api/credentials/', { token: admin, body: { name: 'gh-wrong', kind: 'token', secret: { token: 'ghp_not-valid' } } });
    assert.equal(wrong.status, 201, wrong.text);
    const unknown = await h.request('PATCH', `/api/pipelines/${github}/`, { token: admin, body: { forge_credential: 'no-such' } });
    assert.equal(unknown.status, 400, unknown.text);
    assert.ok(unknown.json.error.details.forge_credential, unknown.text);

    const patched = await h.request('PATCH', `/api/pipelines/${github}/`, { token: admin, body: { forge_credential: 'gh-status' } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.forge_credential, 'gh-status');
    const commit = sha();
    await pushGithub(commit);
    const received = await finalStatuses(commit, 'ansflow/hello build', 'success');
    assert.ok(received.every((s) => s.token === CREDENTIAL_TOKEN));

    assert.equal((await h.request('PATCH', `/api/pipelines/${github}/`, { token: admin, body: { forge_credential: 'gh-wrong' } })).status, 200);
    const refusedCommit = sha();
    const runId = await pushGithub(refusedCommit);
    const shown = await waitFor(async () =>
      ((s) => (s.some((x) => x.state === 'success' && x.outcome === 'failed') ? s : undefined))((await run(runId)).commit_statuses as Json[]),
    );
    const final = shown.find((s: Json) => s.state === 'success')!;
    assert.equal(final.last_status_code, 401);
    assert.match(final.last_error, /refused the status \(HTTP 401\): Bad credentials/);
    assert.ok(!JSON.stringify(shown).includes('ghp_not-valid'));
    assert.equal(forge.statusesOf(refusedCommit).length, 0);
    assert.equal((await h.request('PATCH', `/api/pipelines/${github}/`, { token: admin, body: { forge_credential: null } })).status, 200);
  });
});
