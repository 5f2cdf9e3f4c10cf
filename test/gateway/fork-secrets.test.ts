/**
 * Pull requests from forks run without secrets (as GitHub Actions does for `pull_request` from a
 * fork), end to end: signed GitHub and GitLab deliveries, real runs whose shell step prints what it
 * sees of a secret variable, and every API body and log checked for the value. A same-repository
 * pull request gets the secret; a pipeline with `secrets_for_forks: true` gives it to forks too,
 * once a maintainer (not the pull request's author) approved that author at that head commit: the
 * same commit again needs no second approval, a new commit does, and a rejection ends the run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Harness } from '../support/api-harness.js';
import { readJsonFixture } from '../support/fixtures.js';
import { isFinalStatus } from '../support/run-status.js';
import { waitFor } from '../support/wait.js';
import { createPipeline, githubHeaders, gitlabHeaders, postGithub, postGitlab, startGateway } from './gateway-support.js';

type Json = Record<string, any>;

const SECRET = `s3cr3t-${randomUUID()}`;
const SECRET_LENGTH = SECRET.length;
const WITHHELD = 'pull request from a fork';

/** Prints whether the secret is set and its length (the value itself would be masked), and a plain variable. */
const PRINT = 'echo "token-set=[${DEPLOY_TOKEN+yes}] token-length=[${#DEPLOY_TOKEN}] plain=[$PLAIN]"';

/** GitHub's opened pull request (Codertocat/Hello-World, master ← changes); as a fork's when `fork`. */
function githubPullRequest(fork: boolean, headSha?: string): string {
  const body = readJsonFixture<Json>('webhooks', 'github', 'pull_request.opened.octokit.json');
  if (fork) body.pull_request.head.repo = { ...body.pull_request.head.repo, id: 424242, full_name: 'mallory/Hello-World', name: 'Hello-World' };
  if (headSha) {
    body.action = 'synchronize';
    body.pull_request.head.sha = headSha;
  }
  return JSON.stringify(body);
}

/** GitLab's opened merge request (gitlabhq/gitlab-test, master ← ms-viewport); from another project when `fork`. */
function gitlabMergeRequest(fork: boolean): string {
  const body = readJsonFixture<Json>('webhooks', 'gitlab', 'merge_request.docs.json');
  if (fork) {
    body.object_attributes.source_project_id = 4242;
    body.object_attributes.source = { ...body.object_attributes.source, path_with_namespace: 'mallory/gitlab-test' };
  }
  return JSON.stringify(body);
}

describe('pull requests from forks get no secrets', () => {
  let h: Harness;
  let admin: string;
  let github: number;
  let githubOptIn: number;
  let gitlab: number;

  const pipeline = (name: string, repository_url: string, extra: Json = {}) =>
    createPipeline(h, admin, {
      name,
      repository_url,
      // Any branch: this file is about secrets, not about which branch matches (pull requests match
      // on their target branch: test/gateway/pull-requests-and-pushes.test.ts).
      branch: '*',
      trigger_events: ['pull_request'],
      variables: { DEPLOY_TOKEN: { value: SECRET, secret: true }, PLAIN: 'visible' },
      steps: [{ name: 'print', type: 'shell_command', config: { command: PRINT } }],
      ...extra,
    });

  before(async () => {
    h = await startGateway();
    admin = await h.login();
    github = await pipeline('gh', 'https://github.com/codertocat/hello-world');
    githubOptIn = await pipeline('gh-trusting-forks', 'https://github.com/Codertocat/Hello-World.git', { secrets_for_forks: true });
    gitlab = await pipeline('gl', 'http://example.com/gitlabhq/gitlab-test');
  });
  after(() => h.close());

  const finished = (runId: number) =>
    waitFor(
      async () => {
        const r = await h.request('GET', `/api/pipeline-runs/${runId}/`, { token: admin });
        return isFinalStatus(r.json.status) ? (r.json as Json) : undefined;
      },
      30000,
      `run ${runId} to finish`,
    );

  /** The run of `pipelineId` among a delivery's runs, finished, with its log and every body that shows it. */
  async function runOf(runIds: number[], pipelineId: number) {
    const runs = await Promise.all(runIds.map(finished));
    const run = runs.find((r) => r.pipeline.id === pipelineId);
    assert.ok(run, `a run of pipeline ${pipelineId} among ${JSON.stringify(runIds)}`);
    assert.equal(run.status, 'success', JSON.stringify(run));
    const log = (await h.request('GET', `/api/pipeline-runs/${run.id}/logs/`, { token: admin })).text;
    const bodies = [
      JSON.stringify(run),
      log,
      (await h.request('GET', `/api/pipeline-runs/?pipeline=${pipelineId}`, { token: admin })).text,
      (await h.request('GET', `/api/pipelines/${pipelineId}/runs/`, { token: admin })).text,
      (await h.request('GET', `/api/pipelines/${pipelineId}/`, { token: admin })).text,
      (await h.request('GET', '/api/webhook-deliveries/?page_size=100', { token: admin })).text,
    ];
    for (const body of bodies) assert.ok(!body.includes(SECRET), `the secret value appears in ${body.slice(0, 300)}`);
    const stored = await h.ctx.db.kysely
      .selectFrom('pipeline_runs')
      .select(['variables', 'secrets_withheld'])
      .where('id', '=', run.id)
      .executeTakeFirstOrThrow();
    return { run, log, stored };
  }

  function assertWithheld({ run, log, stored }: Awaited<ReturnType<typeof runOf>>) {
    assert.match(log, /token-set=\[\] token-length=\[0\] plain=\[visible\]/, log);
    assert.equal(run.secrets_withheld, WITHHELD);
    assert.equal(stored.secrets_withheld, WITHHELD);
    assert.deepEqual(Object.keys(run.variables), ['PLAIN'], 'the run shows no secret variable at all');
    assert.deepEqual(Object.keys(JSON.parse(stored.variables)), ['PLAIN'], 'the stored snapshot holds no secret, not even sealed');
  }

  function assertGiven({ run, log, stored }: Awaited<ReturnType<typeof runOf>>) {
    assert.match(log, new RegExp(`token-set=\\[yes\\] token-length=\\[${SECRET_LENGTH}\\] plain=\\[visible\\]`), log);
    assert.equal(run.secrets_withheld, null);
    assert.equal(stored.secrets_withheld, null);
    assert.deepEqual(run.variables.DEPLOY_TOKEN, { value: '******', secret: true });
  }

  /** The delivery's run of the opted-in pipeline, waiting for a maintainer. */
  const waitingOptIn = async (runIds: number[]) => {
    const runs = await Promise.all(runIds.map(async (id) => (await h.request('GET', `/api/pipeline-runs/${id}/`, { token: admin })).json as Json));
    const run = runs.find((r) => r.pipeline.id === githubOptIn);
    assert.ok(run, JSON.stringify(runs));
    assert.equal(run.status, 'waiting', JSON.stringify(run));
    assert.equal(
      await h.ctx.db.kysely.selectFrom('run_queue').select('run_id').where('run_id', '=', run.id).executeTakeFirst(),
      undefined,
      'no job while it waits',
    );
    return run;
  };
  const decide = (runId: number, token: string, decision: 'approve' | 'reject', comment?: string) =>
    h.request('POST', `/api/pipeline-runs/${runId}/approvals/`, { token, body: { decision, ...(comment ? { comment } : {}) } });

  test('a GitHub pull request from a fork runs without secrets; with secrets_for_forks it waits for a maintainer who is not its author, then gets them', async () => {
    const project = (await h.ctx.repos.projects.defaultProjectId())!;
    const member = async (name: string, role: 'developer' | 'maintainer') => {
      const token = await h.userToken(name, 'developer');
      await h.ctx.repos.projects.setMember(project, (await h.ctx.repos.users.findByUsername(name))!.id, role);
      return token;
    };
    const prAuthor = await member('Codertocat', 'maintainer');
    const developer = await member('dev-fork', 'developer');

    const body = githubPullRequest(true);
    const r = await postGithub(h, body, githubHeaders(body, 'pull_request'));
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.triggered_runs.length, 2, r.text);
    const waiting = await waitingOptIn(r.json.triggered_runs);
    assertWithheld(
      await runOf(
        r.json.triggered_runs.filter((id: number) => id !== waiting.id),
        github,
      ),
    );

    const gate = (await h.request('GET', `/api/pipeline-runs/${waiting.id}/approvals/`, { token: admin })).json;
    assert.equal(gate.state, 'waiting');
    assert.deepEqual(gate.fork_pull_request, { number: 2, author: 'Codertocat', commit: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821' });
    assert.equal(gate.can_decide, true);
    const own = await decide(waiting.id, prAuthor, 'approve');
    assert.equal(own.status, 403, own.text);
    assert.match(own.json.error.message, /You authored this pull request/);
    const dev = await decide(waiting.id, developer, 'approve');
    assert.equal(dev.status, 403, dev.text);
    assert.match(dev.json.error.message, /maintainers and owners/);
    const approved = await decide(waiting.id, admin, 'approve', 'read the diff');
    assert.equal(approved.status, 201, approved.text);
    assertGiven(await runOf([waiting.id], githubOptIn));
    const recorded = await h.ctx.db.kysely.selectFrom('fork_approvals').selectAll().where('run_id', '=', waiting.id).executeTakeFirstOrThrow();
    assert.deepEqual(
      [recorded.pipeline_id, recorded.author, recorded.commit_sha, recorded.pull_request, recorded.approved_by_name, recorded.comment],
      [githubOptIn, 'Codertocat', 'ec26c3e57ca3a959ca5aad62de7213c562f8c821', 2, 'admin', 'read the diff'],
    );
    const audit = await h.request('GET', '/api/audit-events/?action=run.approve', { token: admin });
    assert.match(audit.text, /fork pull request/);

    // The same head commit again (a redelivery): approved already, it runs with its secrets at once.
    const again = await postGithub(h, body, githubHeaders(body, 'pull_request'));
    assert.equal(again.status, 202, again.text);
    assertGiven(await runOf(again.json.triggered_runs, githubOptIn));

    // A new commit needs a new approval; a rejection ends the run with the name and the comment.
    const pushed = githubPullRequest(true, 'a'.repeat(40));
    const next = await postGithub(h, pushed, githubHeaders(pushed, 'pull_request'));
    assert.equal(next.status, 202, next.text);
    const second = await waitingOptIn(next.json.triggered_runs);
    const rejected = await decide(second.id, admin, 'reject', 'adds a crypto miner');
    assert.equal(rejected.status, 201, rejected.text);
    const ended = await finished(second.id);
    assert.equal(ended.status, 'cancelled');
    assert.equal(ended.error_reason, 'pull request #2 from a fork: secrets refused by admin: adds a crypto miner');
    assert.equal((await decide(second.id, admin, 'approve')).status, 409, 'decided: not waiting any more');
    for (const id of next.json.triggered_runs as number[]) await finished(id);
  });

  test('a GitHub pull request from the same repository gets its secrets', async () => {
    const body = githubPullRequest(false);
    const r = await postGithub(h, body, githubHeaders(body, 'pull_request'));
    assert.equal(r.status, 202, r.text);
    assertGiven(await runOf(r.json.triggered_runs, github));
  });

  test('a GitLab merge request from another project runs without secrets; one from the same project gets them', async () => {
    const fork = gitlabMergeRequest(true);
    const r = await postGitlab(h, fork, gitlabHeaders('Merge Request Hook'));
    assert.equal(r.status, 202, r.text);
    assertWithheld(await runOf(r.json.triggered_runs, gitlab));

    const same = gitlabMergeRequest(false);
    const s = await postGitlab(h, same, gitlabHeaders('Merge Request Hook'));
    assert.equal(s.status, 202, s.text);
    assertGiven(await runOf(s.json.triggered_runs, gitlab));
  });

  test("a fork's run gets no credentials: a step naming one fails saying they were withheld", async () => {
    const token = `cred-${randomUUID()}`;
    const created = await h.request('POST', '/api/credentials/', { token: admin, body: { name: 'deploy-token', kind: 'token', secret: { token } } });
    assert.equal(created.status, 201, created.text);
    const id = await pipeline('gh-credential', 'https://github.com/Codertocat/Hello-World', {
      steps: [{ name: 'deploy', type: 'shell_command', config: { command: 'echo "credential-length=[${#ANSFLOW_TOKEN}]"' }, credential: 'deploy-token' }],
    });
    const body = githubPullRequest(true);
    const r = await postGithub(h, body, githubHeaders(body, 'pull_request'));
    assert.equal(r.status, 202, r.text);
    const runs = await Promise.all((r.json.triggered_runs as number[]).map(finished));
    const run = runs.find((x) => x.pipeline.id === id);
    assert.ok(run, r.text);
    assert.equal(run.secrets_withheld, WITHHELD);
    assert.equal(run.status, 'failed', JSON.stringify(run));
    assert.match(run.error_reason ?? '', /credential "deploy-token" is withheld from this run \(pull request from a fork\)/);
    const log = (await h.request('GET', `/api/pipeline-runs/${run.id}/logs/`, { token: admin })).text;
    assert.doesNotMatch(log, /credential-length/, 'the step never ran');
    assert.ok(!log.includes(token) && !JSON.stringify(run).includes(token));
    await h.request('DELETE', `/api/pipelines/${id}/`, { token: admin });
  });

  test('secrets_for_forks is off by default, shown, and kept by a PATCH that does not name it', async () => {
    const detail = (id: number) => h.request('GET', `/api/pipelines/${id}/`, { token: admin });
    assert.equal((await detail(github)).json.secrets_for_forks, false);
    assert.equal((await detail(githubOptIn)).json.secrets_for_forks, true);
    const patched = await h.request('PATCH', `/api/pipelines/${githubOptIn}/`, { token: admin, body: { description: 'still trusting' } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.secrets_for_forks, true);
    const off = await h.request('PATCH', `/api/pipelines/${githubOptIn}/`, { token: admin, body: { secrets_for_forks: false } });
    assert.equal(off.json.secrets_for_forks, false);
    const bad = await h.request('PATCH', `/api/pipelines/${githubOptIn}/`, { token: admin, body: { secrets_for_forks: 'yes' } });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.json.error.code, 'VALIDATION_ERROR');
    assert.ok(
      Object.keys(bad.json.error.details).some((k) => k.includes('secrets_for_forks')),
      bad.text,
    );
    // Restored for any later delivery in this file.
    await h.request('PATCH', `/api/pipelines/${githubOptIn}/`, { token: admin, body: { secrets_for_forks: true } });
  });
});
