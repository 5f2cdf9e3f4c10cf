/**
 * Maintainers and owners read their projects' audit events at GET /api/audit-events/ (the policy's
 * `read_audit`); admins read everything (`read_audit_log`, which a token needs the `admin` scope
 * for). Events of other projects and of no project (logins, users) stay with admins; a project
 * filter the caller may not read is a 404, one they are a member of below maintainer a 403.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';

describe('the audit log for maintainers', () => {
  let h: Harness;
  let admin: string;
  const token: Record<string, string> = {};
  let a: number;
  let b: number;

  before(async () => {
    h = await startApi();
    admin = await h.login();
    for (const name of ['maint', 'dev', 'ownerb']) token[name] = await h.userToken(name, 'developer');
    const id = async (name: string) => (await h.ctx.repos.users.findByUsername(name))!.id;
    a = (await h.request('POST', '/api/projects/', { token: admin, body: { name: 'proj-a' } })).json.id;
    b = (await h.request('POST', '/api/projects/', { token: token.ownerb, body: { name: 'proj-b' } })).json.id;
    await h.request('POST', `/api/projects/${a}/members/`, { token: admin, body: { username: 'maint', role: 'maintainer' } });
    await h.request('POST', `/api/projects/${a}/members/`, { token: admin, body: { username: 'dev', role: 'developer' } });
    // maint is only a viewer of B.
    await h.request('POST', `/api/projects/${b}/members/`, { token: token.ownerb, body: { username: 'maint', role: 'viewer' } });
    for (const [project, who] of [
      [a, admin],
      [b, token.ownerb],
    ] as const)
      assert.equal((await h.request('POST', '/api/pipelines/', { token: who, body: { name: `pipe-${project}`, project } })).status, 201);
    // Events of no project: a failed login, a user made by the admin.
    await h.request('POST', '/api/auth/login/', { body: { username: 'maint', password: 'wrong-password' } });
    assert.ok(await id('maint'));
  });
  after(() => h?.close());

  const read = (who: string, query = '') => h.request('GET', `/api/audit-events/${query}`, { token: who });

  test("a maintainer reads their project's events, and only those", async () => {
    const r = await read(token.maint!);
    assert.equal(r.status, 200, r.text);
    const events = r.json.results as Array<{ action: string; project_id: number | null; target: { name: string } }>;
    assert.ok(events.length > 0);
    assert.ok(
      events.every((e) => e.project_id === a),
      JSON.stringify(events.map((e) => [e.action, e.project_id])),
    );
    assert.ok(events.some((e) => e.action === 'pipeline.create' && e.target.name === `pipe-${a}`));
    assert.ok(events.some((e) => e.action === 'membership.add'));
    const all = (await read(admin)).json.results as Array<{ action: string; project_id: number | null }>;
    assert.ok(all.some((e) => e.project_id === b) && all.some((e) => e.action === 'login.failed'), 'the admin reads everything');
    // The export is limited the same way.
    const lines = (await read(token.maint!, '?format=jsonl')).text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { project_id: number });
    assert.equal(lines.length, events.length);
    assert.ok(lines.every((e) => e.project_id === a));
  });

  test('project filter: own project 200, a project where they are below maintainer 403, one they are not in 404', async () => {
    assert.equal((await read(token.maint!, `?project=${a}`)).status, 200);
    const viewer = await read(token.maint!, `?project=${b}`);
    assert.equal(viewer.status, 403, viewer.text);
    assert.equal((await read(token.dev!, `?project=${b}`)).status, 404);
    assert.equal((await read(token.dev!, '?project=999999')).status, 404);
  });

  test('a developer (no project to maintain) is refused; an owner reads their project', async () => {
    const r = await read(token.dev!);
    assert.equal(r.status, 403);
    assert.match(r.json.error.message, /maintainers/);
    const owner = (await read(token.ownerb!)).json.results as Array<{ project_id: number }>;
    assert.ok(owner.length > 0 && owner.every((e) => e.project_id === b));
  });

  test("tokens: a maintainer's read token reads their projects; an admin's needs the admin scope for the whole log", async () => {
    const made = await h.request('POST', '/api/users/me/tokens/', { token: token.maint, body: { name: 'audit-read', scopes: ['read'] } });
    const viaToken = await read(made.json.token);
    assert.equal(viaToken.status, 200, viaToken.text);
    assert.ok((viaToken.json.results as Array<{ project_id: number }>).every((e) => e.project_id === a));
    const adminRead = (await h.request('POST', '/api/users/me/tokens/', { token: admin, body: { name: 'admin-read', scopes: ['read'] } })).json.token;
    const limited = (await read(adminRead)).json.results as Array<{ action: string; project_id: number | null }>;
    assert.ok(!limited.some((e) => e.action === 'login.failed'), 'a read token of an admin is not the whole log');
    const adminFull = (await h.request('POST', '/api/users/me/tokens/', { token: admin, body: { name: 'admin-all', scopes: ['admin'] } })).json.token;
    assert.ok(((await read(adminFull)).json.results as Array<{ action: string }>).some((e) => e.action === 'login.failed'));
  });
});
