/**
 * Pull requests from forks run without secrets (as GitHub Actions does for `pull_request` from a
 * fork), end to end: signed GitHub and GitLab deliveries, real runs whose shell step prints what it
 * sees of a secret variable, and every API body and log checked for the value. A same-repository
 * pull request gets the secret; a pipeline with `secrets_for_forks: true` gives it to forks too.
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
function githubPullRequest(fork: boolean): string {
  const body = readJsonFixture<Json>('webhooks', 'github', 'pull_request.opened.octokit.json');
  if (fork) body.pull_request.head.repo = { ...body.pull_request.head.repo, id: 424242, full_name: 'mallory/Hello-World', name: 'Hello-World' };
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

  test('a GitHub pull request from a fork runs without secrets; a pipeline with secrets_for_forks gives them', async () => {
    const body = githubPullRequest(true);
    const r = await postGithub(h, body, githubHeaders(body, 'pull_request'));
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.triggered_runs.length, 2, r.text);
    assertWithheld(await runOf(r.json.triggered_runs, github));
    assertGiven(await runOf(r.json.triggered_runs, githubOptIn));
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
