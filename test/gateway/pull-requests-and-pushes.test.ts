/**
 * Pull requests and pushes as peers behave, through signed deliveries against the real server:
 *   - a pipeline's `branch` filters pull requests by their TARGET branch;
 *   - `[skip ci]` / `[ci skip]` in the head commit's message starts nothing, and the delivery
 *     log says so;
 *   - `auto_cancel: true`: a new push to the same branch, or a new commit on the same pull
 *     request, cancels the pipeline's older queued or running runs for it ("superseded by run #N",
 *     through the one cancellation path); other branches and pipelines without it are left alone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Harness } from '../support/api-harness.js';
import { readJsonFixture } from '../support/fixtures.js';
import { isFinalStatus } from '../support/run-status.js';
import { waitFor } from '../support/wait.js';
import { createPipeline, githubHeaders, postGithub, startGateway } from './gateway-support.js';

type Json = Record<string, any>;
const sha = () => randomBytes(20).toString('hex');

function githubPush(commit: string, branch: string, message = 'Update README'): string {
  const body = readJsonFixture<Json>('webhooks', 'github', 'push.go-scm.json');
  body.ref = `refs/heads/${branch}`;
  body.after = commit;
  body.head_commit = { ...body.head_commit, id: commit, message };
  return JSON.stringify(body);
}

/** GitHub's opened pull request #2 (Codertocat/Hello-World, changes → master) at `commit`. */
function githubPullRequest(commit: string, options: { action?: string; number?: number; title?: string } = {}): string {
  const body = readJsonFixture<Json>('webhooks', 'github', 'pull_request.opened.octokit.json');
  body.action = options.action ?? 'opened';
  if (options.number !== undefined) {
    body.number = options.number;
    body.pull_request.number = options.number;
  }
  if (options.title !== undefined) body.pull_request.title = options.title;
  body.pull_request.head.sha = commit;
  return JSON.stringify(body);
}

describe('pull requests and pushes', () => {
  let h: Harness;
  let admin: string;
  const repo = 'https://github.com/Codertocat/Hello-World';

  before(async () => {
    h = await startGateway();
    admin = await h.login();
  });
  after(() => h?.close());

  const run = async (id: number): Promise<Json> => (await h.request('GET', `/api/pipeline-runs/${id}/`, { token: admin })).json;
  const deliver = async (body: string, event: string) => {
    const r = await postGithub(h, body, githubHeaders(body, event));
    assert.equal(r.status, 202, r.text);
    return r.json as { delivery_id: string; triggered_runs: number[] };
  };
  const runsOf = async (runIds: number[], pipelineId: number) => {
    const out: number[] = [];
    for (const id of runIds) if ((await run(id)).pipeline.id === pipelineId) out.push(id);
    return out;
  };
  const deliveryOf = async (deliveryId: string) =>
    ((await h.request('GET', '/api/webhook-deliveries/?page_size=100', { token: admin })).json.results as Json[]).find((d) => d.delivery_id === deliveryId);

  test("a pipeline's branch filters pull requests by their target branch, not their head branch", async () => {
    const onTarget = await createPipeline(h, admin, {
      name: 'pr-into-master',
      repository_url: repo,
      branch: 'master',
      trigger_events: ['pull_request'],
      steps: [{ name: 's', type: 'shell_command', config: { command: 'true' } }],
    });
    const onHead = await createPipeline(h, admin, {
      name: 'pr-head-changes',
      repository_url: repo,
      branch: 'changes',
      trigger_events: ['pull_request'],
      steps: [{ name: 's', type: 'shell_command', config: { command: 'true' } }],
    });
    const answer = await deliver(githubPullRequest(sha()), 'pull_request');
    assert.equal((await runsOf(answer.triggered_runs, onTarget)).length, 1, 'the pipeline for the target branch (master) runs');
    assert.equal((await runsOf(answer.triggered_runs, onHead)).length, 0, 'the pipeline for the head branch (changes) does not');
    for (const id of [onTarget, onHead]) await h.request('PATCH', `/api/pipelines/${id}/`, { token: admin, body: { status: 'inactive' } });
  });

  test('[skip ci] / [ci skip] in the head commit message (a GitHub pull request: its title) starts nothing, and the delivery says so', async () => {
    const pipeline = await createPipeline(h, admin, {
      name: 'skippable',
      repository_url: repo,
      branch: 'master',
      trigger_events: ['push', 'pull_request'],
      steps: [{ name: 's', type: 'shell_command', config: { command: 'true' } }],
    });
    const pushed = await deliver(githubPush(sha(), 'master', 'Docs only\n\nTypo fixes [SKIP CI]'), 'push');
    assert.deepEqual(pushed.triggered_runs, []);
    const pr = await deliver(githubPullRequest(sha(), { title: '[ci skip] WIP' }), 'pull_request');
    assert.deepEqual(pr.triggered_runs, []);
    for (const [id, marker] of [
      [pushed.delivery_id, '[SKIP CI]'],
      [pr.delivery_id, '[ci skip]'],
    ] as const) {
      const delivery = await deliveryOf(id);
      assert.equal(delivery?.verdict, 'ignored');
      assert.equal(delivery?.reason, `skipped: the head commit's message says ${marker}`);
    }
    const normal = await deliver(githubPush(sha(), 'master', 'skip ci is only a marker in brackets'), 'push');
    assert.equal((await runsOf(normal.triggered_runs, pipeline)).length, 1);
    await h.request('PATCH', `/api/pipelines/${pipeline}/`, { token: admin, body: { status: 'inactive' } });
  });

  test('auto_cancel: a newer push to the branch and a newer commit on the pull request supersede older runs for them, and only those', async () => {
    const slow = [{ name: 'wait', type: 'shell_command', config: { command: 'sleep 30' } }];
    const auto = await createPipeline(h, admin, {
      name: 'auto',
      repository_url: repo,
      branch: '**',
      trigger_events: ['push', 'pull_request'],
      auto_cancel: true,
      steps: slow,
    });
    const keep = await createPipeline(h, admin, { name: 'keep', repository_url: repo, branch: '**', trigger_events: ['push'], steps: slow });
    const started = async (body: string, event: string) => {
      const answer = await deliver(body, event);
      return { auto: (await runsOf(answer.triggered_runs, auto))[0]!, keep: (await runsOf(answer.triggered_runs, keep))[0] };
    };
    const first = await started(githubPush(sha(), 'feature'), 'push');
    const other = await started(githubPush(sha(), 'other'), 'push');
    const prFirst = await started(githubPullRequest(sha()), 'pull_request');
    const prOther = await started(githubPullRequest(sha(), { number: 77 }), 'pull_request');
    // The first run is running (or still queued: either is superseded).
    const second = await started(githubPush(sha(), 'feature'), 'push');
    const prSecond = await started(githubPullRequest(sha(), { action: 'synchronize' }), 'pull_request');

    const cancelled = async (id: number) => waitFor(async () => ((r) => (isFinalStatus(r.status) ? r : undefined))(await run(id)), 30000, `run ${id} to end`);
    const a = await cancelled(first.auto);
    assert.equal(a.status, 'cancelled');
    assert.equal(a.error_reason, `superseded by run #${(await run(second.auto)).number}`);
    const p = await cancelled(prFirst.auto);
    assert.equal(p.status, 'cancelled');
    assert.equal(p.error_reason, `superseded by run #${(await run(prSecond.auto)).number}`);

    // Not superseded: another branch, another pull request, the newest runs, a pipeline without auto_cancel.
    for (const id of [other.auto, prOther.auto, second.auto, prSecond.auto, first.keep!, second.keep!]) {
      const r = await run(id);
      assert.ok(['queued', 'running'].includes(r.status), `run ${id} (${r.pipeline.name}) is still ${r.status}`);
      await h.request('POST', `/api/pipeline-runs/${id}/cancel/`, { token: admin });
    }
    // The cancel went through the audited cancel path, with no user (the webhook).
    const events = (await h.request('GET', '/api/audit-events/?page_size=100', { token: admin })).json.results as Json[];
    const superseded = events.find((e) => e.action === 'run.cancel' && e.target?.id === String(first.auto));
    assert.ok(superseded, 'an audit event for the superseded run');
    assert.match(JSON.stringify(superseded.diff), /superseded by run #/);
  });
});
