/**
 * Runs that check out real repositories: a bare repository served by `git daemon` on loopback,
 * and file:// where the operator allows local repositories; an Ansible playbook from the checkout.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startApi, type Harness } from '../support/api-harness.js';
import { createBareRepo, makeTempDir, startGitDaemon, type FixtureRepo, type GitServer, type TempDir } from '../support/git-fixtures.js';
import { waitFor } from '../support/wait.js';

const PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: greet
      ansible.builtin.debug:
        msg: "hello {{ who }} from ansible"
`;

describe('runs with git checkouts and ansible', () => {
  let h: Harness;
  let token: string;
  let tmp: TempDir;
  let daemon: GitServer;
  let repo: FixtureRepo;

  before(async () => {
    tmp = makeTempDir();
    repo = createBareRepo(tmp.path, 'app', {
      history: [{ VERSION: 'one\n' }, { VERSION: 'two\n', 'site.yml': PLAYBOOK }],
      extraBranches: ['feature/x'],
    });
    daemon = await startGitDaemon(tmp.path);
    h = await startApi({ allowLocalRepositories: true, workspaceRetentionHours: 0 });
    token = await h.login();
  });
  after(async () => {
    await h.close();
    await daemon.stop();
    tmp.cleanup();
  });

  const runToEnd = async (pipelineId: number, body: unknown = {}) => {
    const r = await h.request('POST', `/api/pipelines/${pipelineId}/run/`, { token, body });
    assert.equal(r.status, 201, r.text);
    return waitFor(async () => {
      const d = await h.request('GET', `/api/pipeline-runs/${r.json.id}/`, { token });
      return ['success', 'failed', 'error', 'timeout', 'cancelled'].includes(d.json.status) ? d.json : undefined;
    }, 60000);
  };
  const log = async (runId: number) => (await h.request('GET', `/api/pipeline-runs/${runId}/logs/`, { token })).text;

  test('a git:// checkout of the branch, then a step reads the checked-out files', async () => {
    const url = daemon.url('app');
    const p = await h.request('POST', '/api/pipelines/', {
      token,
      body: {
        name: 'git-daemon',
        repository_url: url,
        steps: [
          { name: 'checkout', type: 'git_checkout', config: { repository: url } },
          { name: 'read', type: 'shell_command', config: { command: 'echo "version=$(cat VERSION) commit=$ANSFLOW_COMMIT"; git rev-parse HEAD' } },
        ],
      },
    });
    assert.equal(p.status, 201, p.text);
    const done = await runToEnd(p.json.id);
    assert.equal(done.status, 'success', await log(done.id));
    const text = await log(done.id);
    assert.match(text, /version=two/);
    assert.ok(text.includes(repo.commits[1]!), 'the checked-out SHA is in the log');
    assert.equal(done.commit, repo.commits[1], 'the run records the commit it built');

    const feature = await runToEnd(p.json.id, { branch: 'feature/x' });
    assert.equal(feature.status, 'success');
    assert.match(await log(feature.id), /version=two/);
    assert.notEqual(feature.commit, repo.commits[1]);

    const exact = await runToEnd(p.json.id, { commit: repo.commits[0] });
    assert.equal(exact.status, 'success', await log(exact.id));
    assert.match(await log(exact.id), /version=one/, 'an exact older commit is checked out');

    const missing = await runToEnd(p.json.id, { branch: 'no-such-branch' });
    assert.equal(missing.status, 'failed');
    assert.equal(missing.steps[1].status, 'skipped');
  });

  test('file:// is accepted only because the operator allowed local repositories; workspaces are removed with retention 0', async () => {
    const p = await h.request('POST', '/api/pipelines/', {
      token,
      body: {
        name: 'git-file',
        repository_url: repo.fileUrl,
        steps: [
          { name: 'checkout', type: 'git_checkout', config: { repository: repo.fileUrl } },
          {
            name: 'ansible',
            type: 'ansible_playbook',
            config: { playbook: 'site.yml', inventory: 'localhost,', extra_vars: { who: 'AnsFlow', ansible_connection: 'local' } },
          },
        ],
      },
    });
    assert.equal(p.status, 201, p.text);
    const done = await runToEnd(p.json.id);
    assert.equal(done.status, 'success', await log(done.id));
    assert.match(await log(done.id), /hello AnsFlow from ansible/);
    await waitFor(async () => !existsSync(join(h.dataDir, 'workspaces', `run-${done.id}`)), 5000, 'workspace removal');
    assert.ok(!readdirSync(join(h.dataDir, 'workspaces')).includes(`run-${done.id}`));
  });
});

describe('local repositories are refused by default', () => {
  let h: Harness;
  before(async () => {
    h = await startApi();
  });
  after(() => h.close());

  test('file:// and paths in a pipeline are a 400 naming the field', async () => {
    const token = await h.login();
    for (const repository of ['file:///etc', '/srv/repo.git', 'ssh://-oProxyCommand=touch%20/tmp/pwned/x', 'https://host/a\r\nb']) {
      const r = await h.request('POST', '/api/pipelines/', {
        token,
        body: { name: 'local', steps: [{ name: 'c', type: 'git_checkout', config: { repository } }] },
      });
      assert.equal(r.status, 400, repository);
      assert.ok(r.json.error.details['steps[0].config.repository'], repository);
    }
  });
});
