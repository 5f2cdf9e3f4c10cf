/**
 * Every real delivery in shared/fixtures/webhooks through the real gateway over HTTP: accepted
 * (one run per matching pipeline, on the delivered commit, recording provider, event, delivery
 * id, ref and author) or ignored for the right reason, as the deliveries API then shows.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Harness } from '../support/api-harness.js';
import { fixturePath, readFixture, readJsonFixture } from '../support/fixtures.js';
import { waitFor } from '../support/wait.js';
import { githubHeaders, gitlabHeaders, postGithub, postGitlab, startGateway } from './gateway-support.js';

type Expect = { commit: string; ref: string; author: string } | { ignored: RegExp } | 'ping';

const GITHUB: Record<string, { event: string; expect: Expect }> = {
  'create.octokit.json': { event: 'create', expect: { ignored: /"create" events do not trigger runs/ } },
  'delete.octokit.json': { event: 'delete', expect: { ignored: /"delete" events do not trigger runs/ } },
  'ping.octokit.json': { event: 'ping', expect: 'ping' },
  'ping.with-organization.octokit.json': { event: 'ping', expect: 'ping' },
  'pr_closed.go-scm.json': { event: 'pull_request', expect: { ignored: /action "closed" does not trigger/ } },
  'pr_opened.go-scm.json': {
    event: 'pull_request',
    expect: { commit: 'd2b75aa7797ec26b088fa2dd527e9d2c052fcedd', ref: 'refs/pull/1/head', author: 'bradrydzewski' },
  },
  'pr_reopened.go-scm.json': {
    event: 'pull_request',
    expect: { commit: 'd2b75aa7797ec26b088fa2dd527e9d2c052fcedd', ref: 'refs/pull/1/head', author: 'bradrydzewski' },
  },
  'pr_sync.go-scm.json': {
    event: 'pull_request',
    expect: { commit: '8102e371cd01cf668893cb2d04a04d52331b1dc9', ref: 'refs/pull/1/head', author: 'bradrydzewski' },
  },
  'pull_request.closed.octokit.json': { event: 'pull_request', expect: { ignored: /action "closed" does not trigger/ } },
  'pull_request.opened.octokit.json': {
    event: 'pull_request',
    expect: { commit: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821', ref: 'refs/pull/2/head', author: 'Codertocat' },
  },
  'pull_request.reopened.octokit.json': {
    event: 'pull_request',
    expect: { commit: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821', ref: 'refs/pull/2/head', author: 'Codertocat' },
  },
  'pull_request.synchronize.octokit.json': {
    event: 'pull_request',
    expect: { commit: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821', ref: 'refs/pull/2/head', author: 'Codertocat' },
  },
  'push.branch-create.octokit.json': {
    event: 'push',
    expect: { commit: '6113728f27ae82c7b1a177c8d03f9e96e0adf246', ref: 'refs/heads/master', author: 'Codertocat' },
  },
  'push.go-scm.json': {
    event: 'push',
    expect: { commit: '199eddf46df50de8d02e99bf1c5fdb4101338224', ref: 'refs/heads/master', author: 'Codertocat' },
  },
  'push.no-username-committer.octokit.json': {
    event: 'push',
    expect: { commit: '6113728f27ae82c7b1a177c8d03f9e96e0adf246', ref: 'refs/heads/master', author: 'Codertocat' },
  },
  'push.tag-delete.octokit.json': { event: 'push', expect: { ignored: /^tag deleted$/ } },
  'push_branch_create.go-scm.json': {
    event: 'push',
    expect: { commit: 'd2b75aa7797ec26b088fa2dd527e9d2c052fcedd', ref: 'refs/heads/feature-branch', author: 'bradrydzewski' },
  },
  'push_branch_delete.go-scm.json': { event: 'push', expect: { ignored: /^branch deleted$/ } },
  'push_tag.go-scm.json': {
    event: 'push',
    expect: { commit: 'd2b75aa7797ec26b088fa2dd527e9d2c052fcedd', ref: 'refs/tags/v0.0.1', author: 'bradrydzewski' },
  },
  'push_tag_delete.go-scm.json': { event: 'push', expect: { ignored: /^tag deleted$/ } },
};

const GITLAB: Record<string, { event: string; expect: Expect }> = {
  'branch_create.go-scm.json': {
    event: 'Push Hook',
    expect: { commit: 'c4c79227ed610f1151f05bbc5be33b4f340d39c8', ref: 'refs/heads/feature', author: 'sytses' },
  },
  'branch_delete.go-scm.json': { event: 'Push Hook', expect: { ignored: /^branch deleted$/ } },
  'merge_request.docs.json': {
    event: 'Merge Request Hook',
    expect: { commit: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7', ref: 'refs/merge-requests/1/head', author: 'root' },
  },
  'merge_request.go-gitlab.json': {
    event: 'Merge Request Hook',
    expect: { commit: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7', ref: 'refs/merge-requests/1/head', author: 'user1' },
  },
  'pull_request_close.go-scm.json': { event: 'Merge Request Hook', expect: { ignored: /action "close" does not trigger/ } },
  'pull_request_create.go-scm.json': {
    event: 'Merge Request Hook',
    expect: { commit: 'c4c79227ed610f1151f05bbc5be33b4f340d39c8', ref: 'refs/merge-requests/1/head', author: 'sytses' },
  },
  'pull_request_merge.go-scm.json': { event: 'Merge Request Hook', expect: { ignored: /action "merge" does not trigger/ } },
  'pull_request_reopen.go-scm.json': {
    event: 'Merge Request Hook',
    expect: { commit: 'c4c79227ed610f1151f05bbc5be33b4f340d39c8', ref: 'refs/merge-requests/1/head', author: 'sytses' },
  },
  'push.docs.json': {
    event: 'Push Hook',
    expect: { commit: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7', ref: 'refs/heads/master', author: 'jsmith' },
  },
  'push.go-gitlab.json': {
    event: 'Push Hook',
    expect: { commit: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7', ref: 'refs/heads/master', author: 'jsmith' },
  },
  'push.go-scm.json': {
    event: 'Push Hook',
    expect: { commit: '2adc9465c4edfc33834e173fe89436a7cb899a1d', ref: 'refs/heads/master', author: 'sytses' },
  },
  'push_subgroup.go-scm.json': {
    event: 'Push Hook',
    expect: { commit: '2adc9465c4edfc33834e173fe89436a7cb899a1d', ref: 'refs/heads/master', author: 'sytses' },
  },
  'tag_create.go-scm.json': {
    event: 'Tag Push Hook',
    expect: { commit: '2adc9465c4edfc33834e173fe89436a7cb899a1d', ref: 'refs/tags/v1.0.0', author: 'sytses' },
  },
  'tag_delete.go-scm.json': { event: 'Tag Push Hook', expect: { ignored: /^tag deleted$/ } },
  'tag_push.docs.json': {
    event: 'Tag Push Hook',
    expect: { commit: '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7', ref: 'refs/tags/v1.0.0', author: 'John Smith' },
  },
  'tag_push.go-gitlab.json': {
    event: 'Tag Push Hook',
    expect: { commit: '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7', ref: 'refs/tags/v1.0.0', author: 'jsmith' },
  },
};

// The repositories of the fixtures, each written differently from how the delivery names it
// (scheme, user, host case, `.git`), which matching must ignore.
const REPOSITORIES = [
  'git@github.com:Codertocat/Hello-World.git',
  'https://GitHub.com/bradrydzewski/drone-test-go',
  'ssh://git@example.com/mike/diaspora.git',
  'http://Example.com/jsmith/example',
  'https://example.com/gitlabhq/gitlab-test.git',
  'git@gitlab.com:gitlab-org/hello-world',
  'https://gitlab.com/group1/group2/group3/grp2repo.git',
];

const files = (provider: string) => readdirSync(fixturePath('webhooks', provider)).filter((f) => f.endsWith('.json') && !f.startsWith('headers.'));

function signedHeaders(provider: 'github' | 'gitlab'): Map<string, Record<string, string>> {
  const name = provider === 'github' ? 'headers.signed-examples.json' : 'headers.examples.json';
  const doc = readJsonFixture<{ deliveries: Array<{ file: string; headers: Record<string, string> }> }>('webhooks', provider, name);
  return new Map(doc.deliveries.map((d) => [d.file, d.headers]));
}

describe('every fixture delivery through the real gateway', () => {
  let h: Harness;
  let admin: string;
  const pipelineByRepo = new Map<string, number>();

  before(async () => {
    h = await startGateway();
    admin = await h.login();
    for (const [i, repository_url] of REPOSITORIES.entries()) {
      const r = await h.request('POST', '/api/pipelines/', {
        token: admin,
        body: {
          name: `fixture-${i}`,
          repository_url,
          branch: '**',
          trigger_events: ['push', 'tag', 'pull_request'],
          steps: [{ name: 'show', type: 'shell_command', config: { command: 'echo "commit=$ANSFLOW_COMMIT branch=$ANSFLOW_BRANCH"' } }],
        },
      });
      assert.equal(r.status, 201, r.text);
      pipelineByRepo.set(repository_url, r.json.id);
    }
  });
  after(() => h.close());

  test('the tables cover every fixture', () => {
    assert.deepEqual(Object.keys(GITHUB).sort(), files('github').sort());
    assert.deepEqual(Object.keys(GITLAB).sort(), files('gitlab').sort());
  });

  const check = async (provider: 'github' | 'gitlab', file: string, event: string, expect: Expect, headers: Record<string, string>) => {
    const body = readFixture('webhooks', provider, file);
    const r = provider === 'github' ? await postGithub(h, body, headers) : await postGitlab(h, body, headers);
    const deliveryId = headers['X-GitHub-Delivery'] ?? headers['x-github-delivery'] ?? headers['Idempotency-Key'] ?? headers['idempotency-key'];
    if (expect === 'ping') {
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { delivery_id: deliveryId, event, triggered_runs: [] });
      return;
    }
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.delivery_id, deliveryId);
    assert.equal(r.json.event, event);
    const list = await h.request('GET', `/api/webhook-deliveries/?provider=${provider}&page_size=100`, { token: admin });
    const stored = list.json.results.find((d: { delivery_id: string }) => d.delivery_id === deliveryId);
    assert.ok(stored, `delivery ${deliveryId} is listed`);
    if ('ignored' in expect) {
      assert.deepEqual(r.json.triggered_runs, [], 'nothing runs');
      assert.equal(stored.verdict, 'ignored');
      assert.match(stored.reason, expect.ignored);
      return;
    }
    assert.equal(r.json.triggered_runs.length, 1, `exactly the repository's pipeline runs: ${r.text}`);
    assert.equal(stored.verdict, 'triggered');
    assert.deepEqual(stored.runs, r.json.triggered_runs);
    assert.equal(stored.commit, expect.commit);
    const run = (await h.request('GET', `/api/pipeline-runs/${r.json.triggered_runs[0]}/`, { token: admin })).json;
    assert.equal(run.commit, expect.commit, 'the run checks out the delivered commit');
    assert.deepEqual(
      {
        type: run.trigger.type,
        provider: run.trigger.provider,
        event: run.trigger.event,
        delivery_id: run.trigger.delivery_id,
        ref: run.trigger.ref,
        author: run.trigger.author,
      },
      { type: 'webhook', provider, event, delivery_id: deliveryId, ref: expect.ref, author: expect.author },
    );
    // A bound for a hang, not a speed target: on a loaded machine a run can take minutes to end.
    const done = await waitFor(
      async () => {
        const x = (await h.request('GET', `/api/pipeline-runs/${run.id}/`, { token: admin })).json;
        return ['success', 'failed', 'error'].includes(x.status) ? x : undefined;
      },
      120_000,
      `run ${run.id} to end`,
    );
    assert.equal(done.status, 'success');
    const log = await h.request('GET', `/api/pipeline-runs/${run.id}/logs/`, { token: admin });
    assert.match(log.text, new RegExp(`commit=${expect.commit}`));
  };

  const providers = [
    {
      provider: 'github',
      title: 'GitHub',
      table: GITHUB,
      recorded: signedHeaders('github'),
      ours: (file: string, event: string) => githubHeaders(readFixture('webhooks', 'github', file), event),
    },
    {
      provider: 'gitlab',
      title: 'GitLab',
      table: GITLAB,
      recorded: signedHeaders('gitlab'),
      ours: (_file: string, event: string) => gitlabHeaders(event, randomUUID()),
    },
  ] as const;
  for (const { provider, title, table, recorded, ours } of providers) {
    for (const [file, { event, expect }] of Object.entries(table)) {
      test(`${title} ${file} (${event})`, async () => {
        // The recorded headers where the fixture has them (signed over the exact bytes), else ours.
        const headers = recorded.get(file) ?? ours(file, event);
        await check(provider, file, event, expect, headers);
      });
    }
  }
});
