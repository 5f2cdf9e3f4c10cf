/**
 * The audit log against the real server: every audited change writes its event with actor, origin,
 * target and a redacted diff; the change and its event commit together; the log is read-only,
 * for admins, filtered, paged by cursor and exported as JSON lines.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startApi, type Harness } from '../support/api-harness.js';
import { waitFor } from '../support/wait.js';

const SECRET_VARIABLE = 'sup3r-secret-variable-value';
const CREDENTIAL_TOKEN = 'ghp_credential-token-value-123456';

describe('audit log', () => {
  let h: Harness;
  let admin: string;
  let dev: string;
  let pipelineId: number;

  before(async () => {
    h = await startApi();
    admin = await h.login();
    dev = await h.userToken('audit-dev', 'developer');
  });
  after(() => h.close());

  const events = async (query = '') => {
    const r = await h.request('GET', `/api/audit-events/${query}`, { token: admin });
    assert.equal(r.status, 200, r.text);
    return r.json.results as any[];
  };

  test('logins are audited, succeeded and failed, with the username tried and the source', async () => {
    await h.request('POST', '/api/auth/login/', { body: { username: 'audit-dev', password: 'wrong-password' }, headers: { 'user-agent': 'audit-test/1.0' } });
    await h.request('POST', '/api/auth/login/', { body: { username: 'nobody-such', password: 'whatever-123' } });
    const failed = await events('?action=login.failed');
    const wrong = failed.find((e) => e.target.name === 'audit-dev');
    assert.ok(wrong, JSON.stringify(failed));
    assert.equal(wrong.actor, null);
    assert.equal(wrong.user_agent, 'audit-test/1.0');
    assert.equal(wrong.source_ip, '127.0.0.1');
    assert.deepEqual(wrong.diff, { reason: { after: 'wrong password' } });
    assert.ok(failed.some((e) => e.target.name === 'nobody-such' && e.target.id === null));
    const ok = await events('?action=login.succeeded&actor=audit-dev');
    assert.ok(ok.length >= 1);
    assert.equal(ok[0].actor.username, 'audit-dev');
  });

  test('pipeline create, update and delete carry a diff with secret variables redacted', async () => {
    const created = await h.request('POST', '/api/pipelines/', {
      token: dev,
      body: {
        name: 'audited',
        variables: { PLAIN: 'a', TOKEN: { value: SECRET_VARIABLE, secret: true } },
        steps: [{ name: 's', type: 'shell_command', config: { command: 'true' } }],
      },
    });
    assert.equal(created.status, 201, created.text);
    pipelineId = created.json.id;
    const updated = await h.request('PATCH', `/api/pipelines/${pipelineId}/`, {
      token: dev,
      body: { description: 'changed', variables: { PLAIN: 'b', TOKEN: { value: 'another-secret-value', secret: true } } },
    });
    assert.equal(updated.status, 200, updated.text);

    const list = await events(`?target_type=pipeline&target_id=${pipelineId}`);
    assert.deepEqual(
      list.map((e) => e.action),
      ['pipeline.update', 'pipeline.create'],
    );
    const [update, create] = list;
    assert.equal(create.actor.username, 'audit-dev');
    assert.equal(create.diff.name.after, 'audited');
    assert.equal(create.diff['variables.TOKEN'].after, '******');
    assert.deepEqual(update.diff.description, { before: '', after: 'changed' });
    assert.deepEqual(update.diff['variables.PLAIN'], { before: 'a', after: 'b' });
    assert.deepEqual(update.diff['variables.TOKEN'], { before: '******', after: '******' }, 'a changed secret shows as changed');
    assert.equal(update.diff.name, undefined, 'unchanged fields are not listed');
    const everything = (await h.request('GET', '/api/audit-events/?format=jsonl', { token: admin })).text;
    assert.ok(!everything.includes(SECRET_VARIABLE) && !everything.includes('another-secret-value'));
  });

  test('credentials are audited without their values', async () => {
    const created = await h.request('POST', '/api/credentials/', {
      token: dev,
      body: { name: 'audited-token', kind: 'token', secret: { token: CREDENTIAL_TOKEN } },
    });
    assert.equal(created.status, 201, created.text);
    const id = created.json.id;
    const updated = await h.request('PUT', `/api/credentials/${id}/`, {
      token: dev,
      body: { name: 'audited-token', kind: 'token', description: 'rotated', secret: { token: CREDENTIAL_TOKEN + '-new' } },
    });
    assert.equal(updated.status, 200, updated.text);
    assert.equal((await h.request('DELETE', `/api/credentials/${id}/`, { token: dev })).status, 204);
    const list = await events(`?target_type=credential&target_id=${id}`);
    assert.deepEqual(
      list.map((e) => e.action),
      ['credential.delete', 'credential.update', 'credential.create'],
    );
    assert.deepEqual(list[1].diff.secret, { before: '******', after: '******' });
    assert.deepEqual(list[1].diff.description, { before: '', after: 'rotated' });
    const all = (await h.request('GET', '/api/audit-events/?format=jsonl', { token: admin })).text;
    assert.ok(!all.includes(CREDENTIAL_TOKEN));
  });

  test('users: create, role change and password change, never a hash', async () => {
    const created = await h.request('POST', '/api/users/', { token: admin, body: { username: 'audited-user', password: 'password-123', role: 'viewer' } });
    assert.equal(created.status, 201);
    const id = created.json.id;
    await h.request('PATCH', `/api/users/${id}/`, { token: admin, body: { role: 'developer' } });
    await h.request('POST', `/api/users/${id}/password/`, { token: admin, body: { new_password: 'password-456' } });
    const list = await events(`?target_type=user&target_id=${id}&action=user.*`);
    assert.deepEqual(
      list.map((e) => e.action),
      ['user.password_change', 'user.update', 'user.create'],
    );
    assert.deepEqual(list[1].diff, { role: { before: 'viewer', after: 'developer' } });
    assert.equal(list[1].actor.username, 'admin');
    assert.deepEqual(list[0].diff, { password_hash: { before: '******', after: '******' } });
    assert.ok(!JSON.stringify(list).includes('argon2'));
  });

  test('tokens and every trigger and cancel of a run are audited', async () => {
    const token = await h.request('POST', '/api/users/me/tokens/', { token: dev, body: { name: 'audited-token', scopes: ['run'] } });
    await h.request('DELETE', `/api/users/me/tokens/${token.json.id}/`, { token: dev });
    const tokenEvents = await events(`?target_type=token&target_id=${token.json.id}`);
    assert.deepEqual(
      tokenEvents.map((e) => e.action),
      ['token.revoke', 'token.create'],
    );
    assert.ok(!JSON.stringify(tokenEvents).includes(token.json.token));

    const slow = await h.request('POST', '/api/pipelines/', {
      token: dev,
      body: { name: 'audited-slow', steps: [{ name: 's', type: 'shell_command', config: { command: 'sleep 30' } }] },
    });
    const run = await h.request('POST', `/api/pipelines/${slow.json.id}/run/`, {
      token: dev,
      body: { branch: 'release' },
      headers: { 'user-agent': 'runner/2' },
    });
    assert.equal(run.status, 201, run.text);
    assert.equal((await h.request('POST', `/api/pipeline-runs/${run.json.id}/cancel/`, { token: dev })).status, 202);
    const runEvents = await events(`?target_type=run&target_id=${run.json.id}`);
    assert.deepEqual(
      runEvents.map((e) => e.action),
      ['run.cancel', 'run.trigger'],
    );
    assert.equal(runEvents[1].diff.branch.after, 'release');
    assert.equal(runEvents[1].user_agent, 'runner/2');
    assert.equal(runEvents[1].target.name, 'audited-slow #1');
    await waitFor(async () => (await h.request('GET', `/api/pipeline-runs/${run.json.id}/`, { token: dev })).json.status === 'cancelled');
  });

  test('projects and memberships are audited', async () => {
    const project = await h.request('POST', '/api/projects/', { token: admin, body: { name: 'audited-project', description: '' } });
    assert.equal(project.status, 201, project.text);
    const id = project.json.id;
    const devId = (await h.request('GET', '/api/users/me/', { token: dev })).json.id;
    assert.equal((await h.request('POST', `/api/projects/${id}/members/`, { token: admin, body: { user_id: devId, role: 'viewer' } })).status, 201);
    assert.equal((await h.request('PUT', `/api/projects/${id}/members/${devId}/`, { token: admin, body: { role: 'maintainer' } })).status, 200);
    assert.equal((await h.request('DELETE', `/api/projects/${id}/members/${devId}/`, { token: admin })).status, 204);
    assert.equal(
      (await h.request('PUT', `/api/projects/${id}/`, { token: admin, body: { name: 'audited-project', description: 'now described' } })).status,
      200,
    );
    assert.equal((await h.request('DELETE', `/api/projects/${id}/`, { token: admin })).status, 204);
    const list = await events(`?project=${id}`);
    assert.deepEqual(
      list.map((e) => e.action),
      ['project.delete', 'project.update', 'membership.remove', 'membership.change', 'membership.add', 'project.create'],
    );
    assert.deepEqual(list[3].diff, { role: { before: 'viewer', after: 'maintainer' } });
    assert.equal(list[3].target.id, `${id}/${devId}`);
    assert.equal(list[3].target.name, 'audit-dev');
    assert.deepEqual(list[1].diff, { description: { before: '', after: 'now described' } });
  });

  test('no change without its event: when the event cannot be written, the change is not made', async () => {
    await sql`create trigger audit_down before insert on audit_events begin select raise(abort, 'audit log unavailable'); end`.execute(h.ctx.db.kysely);
    try {
      const r = await h.request('PATCH', `/api/pipelines/${pipelineId}/`, { token: dev, body: { description: 'must not stick' } });
      assert.equal(r.status, 500);
    } finally {
      await sql`drop trigger audit_down`.execute(h.ctx.db.kysely);
    }
    const after = await h.request('GET', `/api/pipelines/${pipelineId}/`, { token: dev });
    assert.equal(after.json.description, 'changed');
  });

  test('a rename onto a taken name inside the audited update: 409, no event, and the next update and its event commit (SQLite)', async () => {
    // The clash is the unique index's, inside the update's transaction (BEGIN/COMMIT/ROLLBACK go
    // straight to better-sqlite3): the transaction must end without the change or an event.
    const steps = [{ name: 's', type: 'shell_command', config: { command: 'true' } }];
    const taken = await h.request('POST', '/api/pipelines/', { token: admin, body: { name: 'Taken Audit Name', steps } });
    const mine = await h.request('POST', '/api/pipelines/', { token: admin, body: { name: 'mine audited', steps } });
    assert.equal(taken.status, 201, taken.text);
    assert.equal(mine.status, 201, mine.text);
    const clash = await h.request('PUT', `/api/pipelines/${mine.json.id}/`, { token: admin, body: { name: 'taken audit name', description: 'x', steps } });
    assert.equal(clash.status, 409, clash.text);
    const renamed = await h.request('PUT', `/api/pipelines/${mine.json.id}/`, { token: admin, body: { name: 'mine, renamed', steps } });
    assert.equal(renamed.status, 200, renamed.text);
    assert.deepEqual(
      (await events(`?target_type=pipeline&target_id=${mine.json.id}&action=pipeline.update`)).map((e) => e.diff),
      [{ name: { before: 'mine audited', after: 'mine, renamed' } }],
      'one event, for the update that happened',
    );
    const [event] = await events(`?target_type=pipeline&target_id=${mine.json.id}&action=pipeline.update`);
    assert.equal(event.at, renamed.json.updated_at, "the event's time is the update's");

    // The pipeline sent back as read (its secret masked) changes no audited field: no event.
    const read = await h.request('GET', `/api/pipelines/${mine.json.id}/`, { token: admin });
    const again = await h.request('PUT', `/api/pipelines/${mine.json.id}/`, { token: admin, body: { name: read.json.name, steps: read.json.steps } });
    assert.equal(again.status, 200, again.text);
    const touched = await h.request('PATCH', `/api/pipelines/${mine.json.id}/`, { token: admin, body: { description: read.json.description } });
    assert.equal(touched.status, 200, touched.text);
    assert.equal(
      (await events(`?target_type=pipeline&target_id=${mine.json.id}&action=pipeline.update`)).length,
      1,
      'saves that change nothing write no event',
    );
  });

  test('filters, cursor pages and JSON lines export', async () => {
    const first = await h.request('GET', '/api/audit-events/?page_size=2', { token: admin });
    assert.equal(first.json.results.length, 2);
    assert.ok(first.json.next);
    const second = await h.request('GET', new URL(first.json.next).pathname + new URL(first.json.next).search, { token: admin });
    assert.ok(second.json.results[0].id < first.json.results[1].id, 'the next page holds older events');

    const since = first.json.results[0].at;
    assert.ok((await events(`?since=${encodeURIComponent(since)}`)).every((e) => e.at >= since));
    assert.equal((await events(`?until=2000-01-01T00:00:00Z`)).length, 0);
    assert.ok((await events('?action=pipeline.*')).every((e) => e.action.startsWith('pipeline.')));
    const devId = (await h.request('GET', '/api/users/me/', { token: dev })).json.id;
    assert.ok((await events(`?actor=${devId}`)).every((e) => e.actor?.username === 'audit-dev'));

    const jsonl = await h.request('GET', '/api/audit-events/?target_type=pipeline', { token: admin, headers: { accept: 'application/x-ndjson' } });
    assert.equal(jsonl.status, 200);
    assert.match(jsonl.headers.get('content-type')!, /application\/x-ndjson/);
    const lines = jsonl.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(lines.length >= 3 && lines.every((e) => e.target.type === 'pipeline'));
    assert.equal((await h.request('GET', '/api/audit-events/?since=yesterday', { token: admin })).status, 400);
  });

  test('the log is for admins and cannot be changed: PUT, PATCH, DELETE are 405', async () => {
    assert.equal((await h.request('GET', '/api/audit-events/', { token: dev })).status, 403);
    assert.equal((await h.request('GET', '/api/audit-events/')).status, 401);
    for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) {
      const r = await h.request(method, '/api/audit-events/', { token: admin, body: {} });
      assert.equal(r.status, 405, method);
    }
  });
});
