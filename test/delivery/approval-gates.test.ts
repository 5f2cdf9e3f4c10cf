/**
 * Environments and approval gates against the real server (SQLite; the PostgreSQL path is the
 * same SQL, exercised by test/delivery/approval-gates-postgres.test.ts): a run whose step names an
 * environment waits with no queue job until N distinct eligible approvals; a rejection, a timeout
 * and a cancel end it; decisions are audited; a restart keeps it waiting; `latest` and `queue`
 * order deployments; the history says who deployed and approved what.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type Harness } from '../support/api-harness.js';
import { waitFor } from '../support/wait.js';

const step = (name: string, command: string, environment?: string) => ({
  name,
  type: 'shell_command',
  config: { command },
  ...(environment ? { environment } : {}),
});

describe('approval gates', () => {
  let h: Harness;
  const token: Record<string, string> = {};
  let defaultProject = 0;

  const as = (who: string) => ({ token: token[who]! });
  const runOf = async (id: number) => (await h.request('GET', `/api/pipeline-runs/${id}/`, as('admin'))).json;
  const settled = (id: number) =>
    waitFor(
      async () => {
        const run = await runOf(id);
        return ['success', 'failed', 'cancelled', 'timeout', 'error'].includes(run.status) ? run : false;
      },
      20000,
      `run ${id} to finish`,
    );
  const jobs = async (id: number) => (await h.ctx.db.kysely.selectFrom('run_queue').select('run_id').where('run_id', '=', id).execute()).length;

  const environment = async (body: Record<string, unknown>) => {
    const r = await h.request('POST', '/api/environments/', { ...as('admin'), body });
    assert.equal(r.status, 201, r.text);
    return r.json;
  };
  const pipeline = async (name: string, env: string, command = 'echo deployed') => {
    const r = await h.request('POST', '/api/pipelines/', {
      ...as('admin'),
      body: { name, steps: [step('build', 'echo built'), step('deploy', command, env)] },
    });
    assert.equal(r.status, 201, r.text);
    return r.json.id as number;
  };
  const trigger = async (pipelineId: number, who = 'dev') => {
    const r = await h.request('POST', `/api/pipelines/${pipelineId}/run/`, { ...as(who), body: {} });
    assert.equal(r.status, 201, r.text);
    return r.json;
  };
  const decide = (runId: number, who: string, decision: 'approve' | 'reject', comment?: string) =>
    h.request('POST', `/api/pipeline-runs/${runId}/approvals/`, { ...as(who), body: { decision, ...(comment ? { comment } : {}) } });

  before(async () => {
    h = await startApi();
    token.admin = await h.login();
    defaultProject = (await h.ctx.repos.projects.defaultProjectId())!;
    for (const [name, role] of [
      ['dev', 'developer'],
      ['alice', 'developer'],
      ['maint', 'maintainer'],
      ['maint2', 'maintainer'],
      ['viewer', 'viewer'],
      ['other', 'developer'],
    ] as const) {
      token[name] = await h.userToken(name, role === 'viewer' ? 'viewer' : 'developer');
      const user = (await h.ctx.repos.users.findByUsername(name))!;
      await h.ctx.repos.projects.setMember(defaultProject, user.id, role);
    }
  });
  after(() => h?.close());

  test('bad environments are refused, naming the field', async () => {
    const unknownUser = await h.request('POST', '/api/environments/', { ...as('admin'), body: { name: 'x1', approvers: { users: ['nobody-here'] } } });
    assert.equal(unknownUser.status, 400);
    assert.match(unknownUser.json.error.details['approvers.users[0]'][0], /no user named "nobody-here"/);
    const badRole = await h.request('POST', '/api/environments/', { ...as('admin'), body: { name: 'x2', approvers: { roles: ['admin'] } } });
    assert.equal(badRole.status, 400);
    const badName = await h.request('POST', '/api/environments/', { ...as('admin'), body: { name: '../prod' } });
    assert.equal(badName.status, 400);
    assert.ok(badName.json.error.details.name);
    await environment({ name: 'dup' });
    const dup = await h.request('POST', '/api/environments/', { ...as('admin'), body: { name: 'dup' } });
    assert.equal(dup.status, 409);
    const byDeveloper = await h.request('POST', '/api/environments/', { ...as('dev'), body: { name: 'mine' } });
    assert.equal(byDeveloper.status, 403, 'a developer could otherwise remove the gate in front of production');
    const unknownEnv = await h.request('POST', '/api/pipelines/', { ...as('admin'), body: { name: 'to-nowhere', steps: [step('d', 'true', 'nowhere')] } });
    assert.equal(unknownEnv.status, 201);
    const refused = await h.request('POST', `/api/pipelines/${unknownEnv.json.id}/run/`, { ...as('admin'), body: {} });
    assert.equal(refused.status, 422);
    assert.match(refused.json.error.message, /environment "nowhere", which this project does not have/);
  });

  test('N of M: eligible, distinct approvals release the run; it waited with no job; each decision is audited', async () => {
    await environment({
      name: 'production',
      required_approvals: 2,
      approvers: { users: ['alice'], roles: ['maintainer'] },
      prevent_self_approval: true,
    });
    const id = await pipeline('deploy-prod', 'production');
    const run = await trigger(id, 'dev');
    assert.equal(run.status, 'waiting');
    assert.deepEqual(run.environment.name, 'production');
    assert.equal(await jobs(run.id), 0, 'a waiting run holds no queue job, so no worker slot');

    const gate = (await h.request('GET', `/api/pipeline-runs/${run.id}/approvals/`, as('maint'))).json;
    assert.equal(gate.state, 'waiting');
    assert.equal(gate.approvers, '2 of: alice, role maintainer (not the run’s own author)');
    assert.equal(gate.can_decide, true);
    const mine = (await h.request('GET', `/api/pipeline-runs/${run.id}/approvals/`, as('dev'))).json;
    assert.equal(mine.can_decide, false);
    assert.match(mine.cannot_decide_reason, /your own deployment/);

    assert.equal((await decide(run.id, 'viewer', 'approve')).status, 403, 'viewers never approve');
    const self = await decide(run.id, 'dev', 'approve');
    assert.equal(self.status, 403);
    assert.match(self.json.error.message, /your own deployment/);
    const notNamed = await decide(run.id, 'other', 'approve');
    assert.equal(notNamed.status, 403);
    assert.match(notNamed.json.error.message, /not an approver/);

    const first = await decide(run.id, 'alice', 'approve', 'looks good');
    assert.equal(first.status, 201, first.text);
    assert.equal(first.json.state, 'waiting');
    assert.equal(first.json.approvals, 1);
    const twice = await decide(run.id, 'alice', 'approve');
    assert.equal(twice.status, 409, 'a second decision by the same person');
    assert.equal((await runOf(run.id)).status, 'waiting');

    const second = await decide(run.id, 'maint', 'approve');
    assert.equal(second.status, 201, second.text);
    assert.equal(second.json.state, 'approved');
    const done = await settled(run.id);
    assert.equal(done.status, 'success');
    assert.ok(done.approved_at);
    assert.equal((await decide(run.id, 'maint2', 'approve')).status, 409, 'a run that is not waiting');

    const events = (await h.request('GET', `/api/audit-events/?target_type=run&target_id=${run.id}`, as('admin'))).json;
    const actions = (events.results as Array<{ action: string; actor: { username: string } }>).map((e) => `${e.action}:${e.actor?.username}`);
    assert.ok(actions.includes('run.approve:alice') && actions.includes('run.approve:maint'), JSON.stringify(actions));

    const history = (await h.request('GET', `/api/environments/${run.environment.id}/deployments/`, as('viewer'))).json;
    assert.equal(history.results[0].run.id, run.id);
    assert.deepEqual(history.results[0].approved_by, ['alice', 'maint']);
    assert.equal(history.results[0].triggered_by, 'dev');
    const env = (await h.request('GET', `/api/environments/${run.environment.id}/`, as('viewer'))).json;
    assert.equal(env.live.run.id, run.id, 'what is live now');
  });

  test('one rejection ends the run cancelled, with the name and the comment', async () => {
    await environment({ name: 'staging', required_approvals: 2 });
    const id = await pipeline('deploy-staging', 'staging');
    const run = await trigger(id);
    const rejected = await decide(run.id, 'maint', 'reject', 'not on a Friday');
    assert.equal(rejected.status, 201, rejected.text);
    assert.equal(rejected.json.state, 'rejected');
    const done = await settled(run.id);
    assert.equal(done.status, 'cancelled');
    assert.equal(done.error_reason, 'deployment to staging rejected by maint: not on a Friday');
    assert.ok(done.steps.every((s: { status: string }) => s.status === 'cancelled'));
  });

  test('the approval timeout ends the run by its outcome; cancelling a waiting run ends it at once', async () => {
    await environment({ name: 'qa-reject', approval_timeout_seconds: 1 });
    await environment({ name: 'qa-approve', approval_timeout_seconds: 1, timeout_outcome: 'approve' });
    const rejectedRun = await trigger(await pipeline('qa1', 'qa-reject'));
    const approvedRun = await trigger(await pipeline('qa2', 'qa-approve'));
    const timedOut = await settled(rejectedRun.id);
    assert.equal(timedOut.status, 'cancelled');
    assert.match(timedOut.error_reason, /^approval for qa-reject timed out after 1s \(nobody approved\)$/);
    assert.equal((await h.request('GET', `/api/pipeline-runs/${rejectedRun.id}/approvals/`, as('admin'))).json.state, 'timed_out');
    assert.equal((await settled(approvedRun.id)).status, 'success');

    await environment({ name: 'held' });
    const held = await trigger(await pipeline('held1', 'held'));
    const cancelled = await h.request('POST', `/api/pipeline-runs/${held.id}/cancel/`, { ...as('dev') });
    assert.equal(cancelled.status, 202, cancelled.text);
    assert.equal(cancelled.json.status, 'cancelled');
    assert.equal(cancelled.json.error_reason, 'cancelled while waiting for approval');
  });

  test('branches the environment does not allow may not deploy there', async () => {
    await environment({ name: 'branch-only', branches: ['main', 'release/*'] });
    const id = await pipeline('branchy', 'branch-only');
    const refused = await h.request('POST', `/api/pipelines/${id}/run/`, { ...as('dev'), body: { branch: 'feature/x' } });
    assert.equal(refused.status, 422);
    assert.match(refused.json.error.message, /Branch "feature\/x" may not deploy to branch-only/);
    assert.equal((await h.request('POST', `/api/pipelines/${id}/run/`, { ...as('dev'), body: { branch: 'release/1.2' } })).status, 201);
  });

  test('`latest`: a newer waiting deployment supersedes the older waiting ones', async () => {
    await environment({ name: 'latest-env', concurrency: 'latest' });
    const id = await pipeline('latest', 'latest-env');
    const older = await trigger(id);
    const newer = await trigger(id);
    const superseded = await settled(older.id);
    assert.equal(superseded.status, 'cancelled');
    assert.equal(superseded.error_reason, `superseded by run #${newer.number} (latest)`);
    assert.equal((await runOf(newer.id)).status, 'waiting');
  });

  test('`queue` without approvals: one deployment at a time, in order', async () => {
    await environment({ name: 'serial', required_approvals: 0, concurrency: 'queue' });
    const id = await pipeline('serial-deploy', 'serial', 'sleep 1');
    const first = await trigger(id);
    const second = await trigger(id);
    const a = await settled(first.id);
    const b = await settled(second.id);
    assert.equal(a.status, 'success');
    assert.equal(b.status, 'success');
    assert.ok(Date.parse(b.started_at) >= Date.parse(a.finished_at), `the second started (${b.started_at}) after the first ended (${a.finished_at})`);
  });

  test('deleting an environment cancels the runs waiting at it', async () => {
    const env = await environment({ name: 'doomed' });
    const run = await trigger(await pipeline('doomed-deploy', 'doomed'));
    assert.equal((await h.request('DELETE', `/api/environments/${env.id}/`, as('maint'))).status, 204);
    const done = await runOf(run.id);
    assert.equal(done.status, 'cancelled');
    assert.equal(done.error_reason, 'environment doomed was deleted');
    assert.deepEqual(done.environment, { id: null, name: 'doomed' });
  });
});

describe('a run waiting for approval survives a restart', () => {
  test('still waiting after the server stops and starts again; then approved, it runs', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ansflow-gate-restart-'));
    try {
      let h = await startApi({ dataDir });
      let admin = await h.login();
      const env = await h.request('POST', '/api/environments/', { token: admin, body: { name: 'prod' } });
      assert.equal(env.status, 201, env.text);
      const p = await h.request('POST', '/api/pipelines/', { token: admin, body: { name: 'p', steps: [step('deploy', 'echo ok', 'prod')] } });
      const run = (await h.request('POST', `/api/pipelines/${p.json.id}/run/`, { token: admin, body: {} })).json;
      assert.equal(run.status, 'waiting');
      await h.close();

      h = await startApi({ dataDir });
      try {
        admin = await h.login();
        const after = (await h.request('GET', `/api/pipeline-runs/${run.id}/`, { token: admin })).json;
        assert.equal(after.status, 'waiting', 'recovery leaves a waiting run waiting');
        const approved = await h.request('POST', `/api/pipeline-runs/${run.id}/approvals/`, { token: admin, body: { decision: 'approve' } });
        assert.equal(approved.status, 201, approved.text);
        const done = await waitFor(async () => {
          const r = (await h.request('GET', `/api/pipeline-runs/${run.id}/`, { token: admin })).json;
          return r.status === 'success' ? r : false;
        });
        assert.equal(done.steps[0].status, 'success');
      } finally {
        await h.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('a pipeline file naming an environment', () => {
  test('the planned run goes back to waiting (its worker slot freed), then runs its planned steps once approved', async () => {
    const { createBareRepo, makeTempDir } = await import('../support/git-fixtures.js');
    const tmp = makeTempDir();
    const repo = createBareRepo(tmp.path, 'app', {
      history: [
        { '.ansflow.yml': 'steps:\n  - name: build\n    run: echo built\n  - name: deploy\n    run: echo deployed-from-file\n    environment: prod\n' },
      ],
    });
    const h = await startApi({ allowLocalRepositories: true });
    try {
      const admin = await h.login();
      assert.equal((await h.request('POST', '/api/environments/', { token: admin, body: { name: 'prod' } })).status, 201);
      const p = await h.request('POST', '/api/pipelines/', {
        token: admin,
        body: { name: 'from-file', repository_url: repo.fileUrl, branch: 'main', config_path: '.ansflow.yml' },
      });
      assert.equal(p.status, 201, p.text);
      const run = (await h.request('POST', `/api/pipelines/${p.json.id}/run/`, { token: admin, body: {} })).json;
      const waiting = await waitFor(async () => {
        const r = (await h.request('GET', `/api/pipeline-runs/${run.id}/`, { token: admin })).json;
        return r.status === 'waiting' ? r : r.status === 'queued' || r.status === 'running' ? false : r;
      });
      assert.equal(waiting.status, 'waiting', JSON.stringify(waiting.error_reason));
      assert.deepEqual(waiting.environment.name, 'prod');
      assert.deepEqual(
        waiting.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`),
        ['build:pending', 'deploy:pending'],
      );
      assert.equal((await h.ctx.db.kysely.selectFrom('run_queue').select('run_id').where('run_id', '=', run.id).execute()).length, 0);
      await waitFor(async () => h.ctx.cancellations.activeRunIds().length === 0, 5000, 'the worker to let the run go');
      assert.equal((await h.request('POST', `/api/pipeline-runs/${run.id}/approvals/`, { token: admin, body: { decision: 'approve' } })).status, 201);
      const done = await waitFor(async () => {
        const r = (await h.request('GET', `/api/pipeline-runs/${run.id}/`, { token: admin })).json;
        return ['success', 'failed', 'error', 'cancelled'].includes(r.status) ? r : false;
      });
      assert.equal(done.status, 'success', done.error_reason);
      const log = await h.request('GET', `/api/pipeline-runs/${run.id}/logs/`, { token: admin });
      assert.match(log.text, /deployed-from-file/);
    } finally {
      await h.close();
      tmp.cleanup();
    }
  });
});
