/**
 * Personal access tokens against the real servers: shown once, stored as a hash, scopes never
 * above the user's role, scopes enforced on both ports and on the WebSocket, expiry and revocation.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startApi, type Harness } from '../support/api-harness.js';
import { connectWs, wsUrl } from '../gateway/gateway-support.js';
import { waitFor } from '../support/wait.js';

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

describe('personal access tokens', () => {
  let h: Harness;
  let dev: string;
  let viewer: string;
  let pipelineId: number;

  before(async () => {
    h = await startApi();
    dev = await h.userToken('tok-dev', 'developer');
    viewer = await h.userToken('tok-viewer', 'viewer');
    const p = await h.request('POST', '/api/pipelines/', {
      token: dev,
      body: { name: 'tokens-pipeline', steps: [{ name: 'hello', type: 'shell_command', config: { command: 'true' } }] },
    });
    assert.equal(p.status, 201, p.text);
    pipelineId = p.json.id;
  });
  after(() => h.close());

  const create = (token: string, body: Record<string, unknown>) => h.request('POST', '/api/users/me/tokens/', { token, body });

  test('the token is shown once, has the afp_ prefix and 190 bits, and only its SHA-256 is stored', async () => {
    const r = await create(dev, { name: 'ci', scopes: ['read', 'run'], expires_at: inDays(30) });
    assert.equal(r.status, 201, r.text);
    assert.match(r.json.token, /^afp_[0-9A-Za-z]{32}$/);
    assert.deepEqual(r.json.scopes, ['read', 'run']);
    assert.equal(r.json.last_used_at, null);
    const list = await h.request('GET', '/api/users/me/tokens/', { token: dev });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.json.map((t: any) => t.name),
      ['ci'],
    );
    assert.ok(!list.text.includes(r.json.token), 'the list never shows the token');
    const rows = await h.ctx.db.kysely.selectFrom('personal_tokens').selectAll().execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.token_hash, createHash('sha256').update(r.json.token).digest('hex'));
    assert.ok(!JSON.stringify(rows).includes(r.json.token.slice(4)));
    await h.request('DELETE', `/api/users/me/tokens/${r.json.id}/`, { token: dev });
  });

  test('scopes never exceed the role: a viewer cannot get run, a developer cannot get admin', async () => {
    const v = await create(viewer, { name: 'x', scopes: ['read', 'run'] });
    assert.equal(v.status, 400);
    assert.ok(v.json.error.details.scopes, v.text);
    const d = await create(dev, { name: 'x', scopes: ['admin'] });
    assert.equal(d.status, 400);
    assert.ok(d.json.error.details.scopes, d.text);
    const bad = await create(dev, { name: 'x', scopes: ['root'] });
    assert.equal(bad.status, 400);
    assert.equal((await create(viewer, { name: 'ok', scopes: ['read'] })).status, 201);
  });

  test('expiry must be in the future and at most a year ahead; omitted it is 90 days', async () => {
    const past = await create(dev, { name: 'x', scopes: ['read'], expires_at: new Date(Date.now() - 1000).toISOString() });
    assert.equal(past.status, 400);
    assert.ok(past.json.error.details.expires_at);
    const far = await create(dev, { name: 'x', scopes: ['read'], expires_at: inDays(400) });
    assert.equal(far.status, 400);
    assert.ok(far.json.error.details.expires_at);
    const dflt = await create(dev, { name: 'default-expiry', scopes: ['read'] });
    assert.equal(dflt.status, 201);
    assert.ok(Math.abs(Date.parse(dflt.json.expires_at) - Date.parse(inDays(90))) < 60_000);
  });

  test('a read token reads but cannot trigger a run or change anything; a run token triggers', async () => {
    const read = (await create(dev, { name: 'reader', scopes: ['read'] })).json.token;
    assert.equal((await h.request('GET', '/api/pipelines/', { token: read })).status, 200);
    assert.equal((await h.request('GET', '/api/users/me/', { token: read })).json.username, 'tok-dev');
    const trigger = await h.request('POST', `/api/pipelines/${pipelineId}/run/`, { token: read, body: {} });
    assert.equal(trigger.status, 403, trigger.text);
    const edit = await h.request('PATCH', `/api/pipelines/${pipelineId}/`, { token: read, body: { description: 'x' } });
    assert.equal(edit.status, 403);
    // A read token cannot mint a stronger token.
    assert.equal((await create(read, { name: 'escalate', scopes: ['write'] })).status, 403);

    const run = (await create(dev, { name: 'runner', scopes: ['run'] })).json.token;
    const started = await h.request('POST', `/api/pipelines/${pipelineId}/run/`, { token: run, body: {} });
    assert.equal(started.status, 201, started.text);
    assert.equal((await h.request('PATCH', `/api/pipelines/${pipelineId}/`, { token: run, body: { description: 'x' } })).status, 403);

    const write = (await create(dev, { name: 'writer', scopes: ['write'] })).json.token;
    assert.equal((await h.request('PATCH', `/api/pipelines/${pipelineId}/`, { token: write, body: { description: 'by token' } })).status, 200);
    // A write token of a developer is still a developer: users are the admins' (403 either way).
    assert.equal((await h.request('GET', '/api/users/', { token: write })).status, 403);
  });

  test('an admin token without the admin scope cannot administer', async () => {
    const admin = await h.login();
    const write = (await create(admin, { name: 'admin-write', scopes: ['read', 'run', 'write'] })).json.token;
    const r = await h.request('POST', '/api/users/', { token: write, body: { username: 'made-by-token', password: 'password-123' } });
    assert.equal(r.status, 403);
    // Without the admin scope the whole audit log is out of reach: the token reads like a member's,
    // the events of the projects the admin maintains or owns (read_audit), never logins or users.
    const limited = await h.request('GET', '/api/audit-events/', { token: write });
    assert.equal(limited.status, 200);
    assert.ok(
      (limited.json.results as Array<{ project_id: number | null }>).every((e) => e.project_id !== null),
      limited.text,
    );
    const full = (await create(admin, { name: 'admin-all', scopes: ['admin'] })).json.token;
    assert.equal((await h.request('GET', '/api/audit-events/', { token: full })).status, 200);
  });

  test('revoked and expired tokens are 401; tokens of another user cannot be revoked', async () => {
    const made = (await create(dev, { name: 'short', scopes: ['read'] })).json;
    assert.equal((await h.request('GET', '/api/pipelines/', { token: made.token })).status, 200);
    assert.equal((await h.request('DELETE', `/api/users/me/tokens/${made.id}/`, { token: viewer })).status, 404);
    assert.equal((await h.request('DELETE', `/api/users/me/tokens/${made.id}/`, { token: dev })).status, 204);
    assert.equal((await h.request('GET', '/api/pipelines/', { token: made.token })).status, 401);
    assert.equal((await h.request('DELETE', `/api/users/me/tokens/${made.id}/`, { token: dev })).status, 404);

    const old = (await create(dev, { name: 'expiring', scopes: ['read'] })).json;
    await h.ctx.db.kysely
      .updateTable('personal_tokens')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('id', '=', old.id)
      .execute();
    const r = await h.request('GET', '/api/pipelines/', { token: old.token });
    assert.equal(r.status, 401);
    assert.match(r.json.error.message, /expired/);
    assert.equal((await h.request('GET', '/api/pipelines/', { token: 'afp_' + 'x'.repeat(32) })).status, 401);
  });

  test('last_used_at is recorded (off the request path)', async () => {
    const made = (await create(dev, { name: 'used', scopes: ['read'] })).json;
    await h.request('GET', '/api/pipelines/', { token: made.token });
    await waitFor(async () => {
      const list = await h.request('GET', '/api/users/me/tokens/', { token: dev });
      return list.json.find((t: any) => t.id === made.id).last_used_at !== null;
    });
  });

  test('tokens work on the gateway and on the WebSocket', async () => {
    const read = (await create(dev, { name: 'gateway', scopes: ['read'] })).json.token;
    const status = await fetch(`${h.gatewayUrl}/api/v1/system/status`, { headers: { authorization: `Bearer ${read}` } });
    assert.equal(status.status, 200);
    const run = await h.request('POST', `/api/pipelines/${pipelineId}/run/`, { token: dev, body: {} });
    const ws = await connectWs(wsUrl(h, `/ws/pipeline-runs/${run.json.id}?token=${read}`));
    const first = await ws.next(() => true, 10_000);
    assert.equal(first.data.run_id, run.json.id);
    ws.socket.close();
    const revokedId = (await h.request('GET', '/api/users/me/tokens/', { token: dev })).json.find((t: any) => t.name === 'gateway').id;
    await h.request('DELETE', `/api/users/me/tokens/${revokedId}/`, { token: dev });
    const refused = await connectWs(wsUrl(h, `/ws/pipeline-runs/${run.json.id}?token=${read}`));
    assert.equal((await refused.closed).code, 4401);
  });
});
