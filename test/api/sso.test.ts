/**
 * Single sign-on against a real OpenID Connect provider (oidc-provider on a loopback port, see
 * test/support/oidc-provider.ts), through the API with real HTTP: start (cookie + authorization
 * URL with PKCE S256, state and nonce), the provider's login form, the callback, and the one-time
 * code exchanged for tokens. Accounts are made at first sign-in and linked by issuer and subject;
 * groups map to project roles at every sign-in. Then the attacks: state missing, replayed or from
 * another browser; nonce missing or replayed; an ID token for another client; a login code used
 * twice; a provider that does not answer or cannot be reached; password sign-in turned off.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { jwtClaims, OTHER_CLIENT_ID, ProviderBrowser, startTestProvider, type TestProvider } from '../support/oidc-provider.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const MAPPING = { 'ci-maintainers': { infra: 'maintainer' }, staff: { infra: 'viewer', default: 'viewer' } };

interface Started {
  authorizationUrl: URL;
  /** `ansflow_sso=…`, as the browser would send it back. */
  cookie: string;
  setCookie: string;
}

describe('single sign-on (OpenID Connect) through the API', () => {
  let idp: TestProvider;
  let h: Harness;
  let admin: string;
  let infra: number;

  before(async () => {
    idp = await startTestProvider();
    h = await startApi({}, idp.env({ ANSFLOW_OIDC_GROUP_ROLES: JSON.stringify(MAPPING) }));
    await idp.register(`${h.baseUrl}/api/auth/oidc/callback/`);
    admin = await h.login();
    infra = (await h.request('POST', '/api/projects/', { token: admin, body: { name: 'infra' } })).json.id;
  });
  after(async () => {
    await h?.close();
    await idp?.close();
  });

  const start = async (next?: string): Promise<Started> => {
    const r = await fetch(`${h.baseUrl}/api/auth/oidc/start/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(next ? { next } : {}),
    });
    assert.equal(r.status, 200, await r.clone().text());
    const setCookie = r.headers.getSetCookie()[0]!;
    return { authorizationUrl: new URL(((await r.json()) as { authorization_url: string }).authorization_url), cookie: setCookie.split(';')[0]!, setCookie };
  };
  /** AnsFlow's callback as the browser would follow it; returns where AnsFlow sends the browser next. */
  const callback = async (url: URL, cookie: string | null): Promise<string> => {
    const r = await fetch(`${h.baseUrl}${url.pathname}${url.search}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    assert.equal(r.status, 302, await r.text());
    return r.headers.get('location')!;
  };
  const exchange = (location: string, cookie: string | null) => {
    const code = /^\/sso\/callback#code=([A-Za-z0-9_-]+)$/.exec(location)?.[1];
    assert.ok(code, `a one-time code in the fragment: ${location}`);
    return h.request('POST', '/api/auth/oidc/exchange/', { body: { code }, headers: cookie ? { cookie } : {} });
  };
  /** The whole dance for `login`; returns the exchange's answer. */
  const signIn = async (login: string, next?: string) => {
    const s = await start(next);
    const back = await new ProviderBrowser(idp.issuer).signIn(s.authorizationUrl.href, login);
    const location = await callback(back, s.cookie);
    return exchange(location, s.cookie);
  };
  const events = async (query: string) => (await h.request('GET', `/api/audit-events/${query}`, { token: admin })).json.results as any[];
  const rolesOf = async (userId: number) => {
    const memberships = await h.ctx.repos.projects.membershipsOf(userId);
    const defaultId = (await h.ctx.repos.projects.defaultProjectId())!;
    return { infra: memberships.get(infra) ?? null, default: memberships.get(defaultId) ?? null };
  };

  test('the login page learns which methods exist', async () => {
    const r = await h.request('GET', '/api/auth/methods/');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { password: true, sso: { name: 'Test IdP' } });
  });

  test('start: PKCE S256, state and nonce in the authorization URL; the sign-in bound to an HttpOnly cookie', async () => {
    const s = await start();
    const q = s.authorizationUrl.searchParams;
    assert.equal(s.authorizationUrl.origin, idp.issuer);
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.ok((q.get('state') ?? '').length >= 32 && (q.get('nonce') ?? '').length >= 32);
    assert.equal(q.get('client_id'), 'ansflow-test');
    assert.equal(q.get('redirect_uri'), `${h.baseUrl}/api/auth/oidc/callback/`);
    assert.match(s.setCookie, /^ansflow_sso=[A-Za-z0-9_-]{43}; Path=\/api\/auth\/oidc\/; Max-Age=600; HttpOnly; SameSite=Lax$/);
    // Nothing secret is stored in the clear that travels in a URL or cookie.
    const row = await h.ctx.db.kysely.selectFrom('sso_logins').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.notEqual(row.state_hash, q.get('state'));
    assert.ok(!JSON.stringify(row).includes(s.cookie.split('=')[1]!));
  });

  test('first sign-in makes the account, links it by issuer and subject, sets project roles from groups; tokens work', async () => {
    const r = await signIn('alice', '/runs');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.user.username, 'alice');
    assert.equal(r.json.next, '/runs');
    const me = await h.request('GET', '/api/users/me/', { token: r.json.access });
    assert.equal(me.status, 200);
    assert.equal(me.json.username, 'alice');
    assert.equal(me.json.email, 'alice@example.com');
    assert.equal(me.json.role, 'developer');
    // ci-maintainers → infra maintainer beats staff → infra viewer; staff → default viewer.
    assert.deepEqual(await rolesOf(me.json.id), { infra: 'maintainer', default: 'viewer' });
    const refreshed = await h.request('POST', '/api/auth/refresh/', { body: { refresh: r.json.refresh } });
    assert.equal(refreshed.status, 200, 'the normal refresh token');
    const identity = await h.ctx.db.kysely.selectFrom('user_identities').selectAll().where('user_id', '=', me.json.id).executeTakeFirstOrThrow();
    assert.deepEqual([identity.issuer, identity.subject], [idp.issuer, 'alice']);

    const login = (await events('?action=login.succeeded')).find((e) => e.actor?.username === 'alice');
    assert.ok(login, 'the sign-in is audited');
    assert.equal(login.diff.method.after, 'single sign-on');
    assert.ok((await events('?action=user.create')).some((e) => e.target.name === 'alice' && e.diff.via?.after === 'single sign-on'));
    const added = (await events(`?action=membership.add&project=${infra}`)).find((e) => e.target.name === 'alice');
    assert.equal(added?.diff.role.after, 'maintainer');
  });

  test('groups are applied again at every sign-in: a role changes, and goes when no group grants it', async () => {
    const id = (await h.ctx.repos.users.findByUsername('alice'))!.id;
    idp.setGroups('alice', ['staff']);
    assert.equal((await signIn('alice')).status, 200);
    assert.equal((await h.ctx.repos.users.findByUsername('alice'))!.id, id, 'the same account');
    assert.deepEqual(await rolesOf(id), { infra: 'viewer', default: 'viewer' });
    idp.setGroups('alice', []);
    assert.equal((await signIn('alice')).status, 200);
    assert.deepEqual(await rolesOf(id), { infra: null, default: null });
    const removed = (await events(`?action=membership.remove&project=${infra}`)).find((e) => e.target.name === 'alice');
    assert.equal(removed?.diff.role.before, 'viewer');
    // A user without mapped groups gets no project at all (not the default project).
    const carol = await signIn('carol');
    assert.equal(carol.status, 200);
    assert.deepEqual(await rolesOf(carol.json.user.id), { infra: null, default: null });
  });

  test("an account at the provider called `admin` gets a new account, never the local admin's", async () => {
    const r = await signIn('mallory');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.user.username, 'admin-2');
    assert.notEqual(r.json.user.id, 1);
    const me = await h.request('GET', '/api/users/me/', { token: r.json.access });
    assert.equal(me.json.role, 'developer');
    assert.equal((await h.request('GET', '/api/users/', { token: r.json.access })).status, 403);
    assert.equal((await h.ctx.repos.users.findByUsername('admin'))!.email, 'admin@example.com', 'the local admin is untouched');
    assert.ok(await h.login('admin', 'admin123'));
    // The new account has no password: it signs in through the provider only.
    assert.equal((await h.request('POST', '/api/auth/login/', { body: { username: 'admin-2', password: '!sso' } })).status, 401);
  });

  test('state missing, replayed, or from another browser: refused, audited, nothing signed in', async () => {
    const before = (await events('?action=login.failed')).length;
    // Missing: the provider's real answer without its state.
    const s1 = await start();
    const back1 = await new ProviderBrowser(idp.issuer).signIn(s1.authorizationUrl.href, 'bob');
    const noState = new URL(back1);
    noState.searchParams.delete('state');
    assert.equal(await callback(noState, s1.cookie), '/login?sso_error=state_invalid');
    // Another browser (no cookie, or another sign-in's cookie) presenting this state.
    const other = await start();
    assert.equal(await callback(back1, null), '/login?sso_error=state_invalid');
    assert.equal(await callback(back1, other.cookie), '/login?sso_error=state_invalid');
    // The browser that started it still can, once; the same answer again is a replay.
    const location = await callback(back1, s1.cookie);
    assert.match(location, /^\/sso\/callback#code=/);
    assert.equal(await callback(back1, s1.cookie), '/login?sso_error=state_invalid');
    const failed = (await events('?action=login.failed')).slice(0, (await events('?action=login.failed')).length - before);
    assert.equal(failed.length, 4);
    assert.ok(
      failed.every((e) => e.diff.method.after === 'single sign-on' && e.actor === null),
      JSON.stringify(failed),
    );
    assert.ok(failed.some((e) => /without a state/.test(e.diff.reason.after)));
    assert.ok(failed.some((e) => /already used|another browser/.test(e.diff.reason.after)));

    // The one-time login code: only with the sign-in's cookie, and only once.
    assert.equal((await exchange(location, null)).status, 401);
    assert.equal((await exchange(location, other.cookie)).status, 401);
    const once = await exchange(location, s1.cookie);
    assert.equal(once.status, 200, once.text);
    assert.equal(once.json.user.username, 'bob');
    assert.equal((await exchange(location, s1.cookie)).status, 401);
  });

  /** Signs `login` in with the provider's ID token replaced on its way to AnsFlow. */
  const withIdToken = async (login: string, rewrite: (original: string) => string) => {
    idp.hooks.rewriteIdToken = rewrite;
    try {
      const s = await start();
      const back = await new ProviderBrowser(idp.issuer).signIn(s.authorizationUrl.href, login);
      return await callback(back, s.cookie);
    } finally {
      idp.hooks.rewriteIdToken = null;
    }
  };
  const lastFailure = async () => (await events('?action=login.failed'))[0].diff.reason.after as string;

  test('an ID token re-signed with the same claims passes (so the refusals below are about the claim changed)', async () => {
    const location = await withIdToken('bob', (original) => idp.signIdToken(jwtClaims(original)));
    assert.match(location, /^\/sso\/callback#code=/);
  });

  test('an ID token for another client (aud) is refused', async () => {
    const location = await withIdToken('bob', (original) => idp.signIdToken({ ...jwtClaims(original), aud: OTHER_CLIENT_ID }));
    assert.equal(location, '/login?sso_error=invalid_response');
    assert.match(await lastFailure(), /aud/);
  });

  test('an ID token without the nonce, or replayed from an earlier sign-in (its nonce), is refused', async () => {
    const missing = await withIdToken('bob', (original) => {
      const { nonce: _nonce, ...claims } = jwtClaims(original);
      return idp.signIdToken(claims);
    });
    assert.equal(missing, '/login?sso_error=invalid_response');
    assert.match(await lastFailure(), /nonce/);
    // A genuine, still valid ID token of bob's from an earlier sign-in, replayed into a new one.
    const earlier = idp.idTokens.find((t) => jwtClaims(t).sub === 'bob')!;
    const replayed = await withIdToken('bob', () => earlier);
    assert.equal(replayed, '/login?sso_error=invalid_response');
    assert.match(await lastFailure(), /nonce/);
  });

  test('a provider that stops answering: the callback ends within the timeout, saying so', async () => {
    const s = await start();
    const back = await new ProviderBrowser(idp.issuer).signIn(s.authorizationUrl.href, 'bob');
    idp.hooks.hang = true;
    const began = Date.now();
    try {
      assert.equal(await callback(back, s.cookie), '/login?sso_error=provider_timeout');
    } finally {
      idp.hooks.hang = false;
    }
    // The configured timeout is 2 s per request: bounded, not the 30 s library default or forever.
    assert.ok(Date.now() - began < 15_000, `answered after ${Date.now() - began} ms`);
    assert.match(await lastFailure(), /did not answer within 2 seconds/);
  });
});

describe('single sign-on: a provider that never answers or cannot be reached; password sign-in off', () => {
  let idp: TestProvider;
  let h: Harness;

  before(async () => {
    // Never registered: the provider's port accepts connections and holds them without an answer.
    idp = await startTestProvider();
    h = await startApi({}, idp.env({ ANSFLOW_PASSWORD_LOGIN: 'off' }));
    await h.ctx.users.create({ username: 'local-dev', password: 'password-123', role: 'developer' });
  });
  after(async () => {
    await h?.close();
    await idp?.close();
  });

  test('start against a provider that never answers: a bounded 502 that says so', async () => {
    const began = Date.now();
    const r = await h.request('POST', '/api/auth/oidc/start/', { body: {} });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json.error.code, 'UPSTREAM_ERROR');
    assert.equal(r.json.error.details.reason, 'provider_timeout');
    assert.match(r.json.error.message, /did not answer within 2 seconds/);
    assert.ok(Date.now() - began < 15_000, `answered after ${Date.now() - began} ms`);
  });

  test('start against a provider that cannot be reached: a 502 that says so', async () => {
    await idp.close();
    const r = await h.request('POST', '/api/auth/oidc/start/', { body: {} });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json.error.details.reason, 'provider_unreachable');
    assert.match(r.json.error.message, /could not be reached.*ECONNREFUSED/);
  });

  test('password sign-in off: refused for everyone, audited; the break-glass admin still signs in', async () => {
    assert.deepEqual((await h.request('GET', '/api/auth/methods/')).json, { password: false, sso: { name: 'Test IdP' } });
    const refused = await h.request('POST', '/api/auth/login/', { body: { username: 'local-dev', password: 'password-123' } });
    assert.equal(refused.status, 403, refused.text);
    assert.match(refused.json.error.message, /Password sign-in is turned off/);
    // The same answer whether or not the password (or the account) is right.
    const wrong = await h.request('POST', '/api/auth/login/', { body: { username: 'no-such-user', password: 'wrong-password' } });
    assert.equal(wrong.status, 403);
    assert.deepEqual(wrong.json.error.message, refused.json.error.message);
    const admin = await h.login('ADMIN', 'admin123');
    const failed = (await h.request('GET', '/api/audit-events/?action=login.failed', { token: admin })).json.results as any[];
    assert.ok(
      failed.some((e) => e.target.name === 'local-dev' && e.diff.reason.after === 'password login is off'),
      JSON.stringify(failed),
    );
  });
});

describe('single sign-on not configured', () => {
  let h: Harness;
  before(async () => {
    h = await startApi();
  });
  after(() => h?.close());

  test('no SSO method; its routes answer 404 and the callback sends the browser to the login page', async () => {
    assert.deepEqual((await h.request('GET', '/api/auth/methods/')).json, { password: true, sso: null });
    assert.equal((await h.request('POST', '/api/auth/oidc/start/', { body: {} })).status, 404);
    assert.equal((await h.request('POST', '/api/auth/oidc/exchange/', { body: { code: 'x' } })).status, 404);
    const r = await fetch(`${h.baseUrl}/api/auth/oidc/callback/?code=x&state=y`, { redirect: 'manual' });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), '/login?sso_error=not_configured');
  });
});

describe('single sign-on on PostgreSQL (migration 011, the guarded single-use updates)', () => {
  let idp: TestProvider;
  let db: TestDatabase | null;
  let h: Harness | undefined;

  before(async () => {
    db = await createTestDatabase();
    if (!db) return;
    idp = await startTestProvider();
    h = await startApi({}, idp.env({ ANSFLOW_DATABASE_URL: db.url, ANSFLOW_OIDC_GROUP_ROLES: JSON.stringify({ staff: { default: 'viewer' } }) }));
    await idp.register(`${h.baseUrl}/api/auth/oidc/callback/`);
  });
  after(async () => {
    await h?.close();
    await idp?.close();
    await db?.drop();
  });

  test('sign in, the same account the second time; state and login code are single-use', async (t) => {
    if (!h) return t.skip('PostgreSQL is unreachable (said above)');
    const signIn = async () => {
      const started = await fetch(`${h!.baseUrl}/api/auth/oidc/start/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      const cookie = started.headers.getSetCookie()[0]!.split(';')[0]!;
      const url = ((await started.json()) as { authorization_url: string }).authorization_url;
      const back = await new ProviderBrowser(idp.issuer).signIn(url, 'bob');
      const follow = () => fetch(`${h!.baseUrl}${back.pathname}${back.search}`, { redirect: 'manual', headers: { cookie } });
      const location = (await follow()).headers.get('location')!;
      assert.equal((await follow()).headers.get('location'), '/login?sso_error=state_invalid', 'the state is used once');
      const code = /#code=(.+)$/.exec(location)![1]!;
      const exchange = () => h!.request('POST', '/api/auth/oidc/exchange/', { body: { code }, headers: { cookie } });
      const first = await exchange();
      assert.equal(first.status, 200, first.text);
      assert.equal((await exchange()).status, 401, 'the login code is used once');
      return first.json.user.id as number;
    };
    const id = await signIn();
    assert.equal(await signIn(), id);
    const defaultId = (await h.ctx.repos.projects.defaultProjectId())!;
    assert.equal(await h.ctx.repos.projects.roleOf(defaultId, id), 'viewer');
  });
});
