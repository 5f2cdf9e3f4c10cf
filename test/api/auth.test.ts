import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSigner } from 'fast-jwt';
import { startApi, type Harness } from '../support/api-harness.js';

describe('authentication', () => {
  let h: Harness;
  before(async () => {
    h = await startApi();
  });
  after(() => h.close());

  test('login as in the API document returns access, refresh and the user', async () => {
    const r = await h.request('POST', '/api/auth/login/', { body: { username: 'admin', password: 'admin123' } });
    assert.equal(r.status, 200);
    assert.match(r.json.access, /^eyJ/);
    assert.match(r.json.refresh, /^eyJ/);
    assert.deepEqual(r.json.user, { id: 1, username: 'admin', email: 'admin@example.com' });
    const header = JSON.parse(Buffer.from(r.json.access.split('.')[0], 'base64url').toString());
    assert.equal(header.alg, 'HS256');
  });

  test('wrong credentials are a 401 AUTHENTICATION_ERROR in the unified body', async () => {
    const r = await h.request('POST', '/api/auth/login/', { body: { username: 'admin', password: 'nope' } });
    assert.equal(r.status, 401);
    assert.equal(r.json.error.code, 'AUTHENTICATION_ERROR');
    assert.equal(r.json.path, '/api/auth/login/');
    assert.ok(r.json.timestamp);
  });

  test('repeated failures for one username are rate limited with Retry-After', async () => {
    await h.ctx.users.create({ username: 'victim', password: 'password-123', role: 'viewer' });
    let last;
    for (let i = 0; i < 6; i++) last = await h.request('POST', '/api/auth/login/', { body: { username: 'victim', password: `bad-${i}` } });
    assert.equal(last!.status, 429);
    assert.equal(last!.json.error.code, 'RATE_LIMIT_EXCEEDED');
    assert.ok(Number(last!.headers.get('retry-after')) > 0);
    const right = await h.request('POST', '/api/auth/login/', { body: { username: 'victim', password: 'password-123' } });
    assert.equal(right.status, 429, 'even the right password waits while throttled');
  });

  test('refresh rotates; reusing a rotated token revokes the whole family', async () => {
    const login = await h.request('POST', '/api/auth/login/', { body: { username: 'admin', password: 'admin123' } });
    const first = login.json.refresh;
    const r1 = await h.request('POST', '/api/auth/refresh/', { body: { refresh: first } });
    assert.equal(r1.status, 200);
    assert.notEqual(r1.json.refresh, first);
    const me = await h.request('GET', '/api/users/me/', { token: r1.json.access });
    assert.equal(me.status, 200);

    const replay = await h.request('POST', '/api/auth/refresh/', { body: { refresh: first } });
    assert.equal(replay.status, 401);
    const second = await h.request('POST', '/api/auth/refresh/', { body: { refresh: r1.json.refresh } });
    assert.equal(second.status, 401, 'the newer token of the family is revoked too');
  });

  test('logout revokes the refresh token', async () => {
    const login = await h.request('POST', '/api/auth/login/', { body: { username: 'admin', password: 'admin123' } });
    assert.equal((await h.request('POST', '/api/auth/logout/', { body: { refresh: login.json.refresh } })).status, 204);
    assert.equal((await h.request('POST', '/api/auth/refresh/', { body: { refresh: login.json.refresh } })).status, 401);
  });

  test('logout with a token already rotated ends the session: the newer token of its family is refused too', async () => {
    const login = await h.request('POST', '/api/auth/login/', { body: { username: 'admin', password: 'admin123' } });
    const rotated = await h.request('POST', '/api/auth/refresh/', { body: { refresh: login.json.refresh } });
    assert.equal(rotated.status, 200);
    // Another login's session is not touched.
    const other = await h.request('POST', '/api/auth/login/', { body: { username: 'admin', password: 'admin123' } });
    assert.equal((await h.request('POST', '/api/auth/logout/', { body: { refresh: login.json.refresh } })).status, 204);
    assert.equal((await h.request('POST', '/api/auth/refresh/', { body: { refresh: rotated.json.refresh } })).status, 401);
    assert.equal((await h.request('POST', '/api/auth/refresh/', { body: { refresh: other.json.refresh } })).status, 200);
  });

  test('forged and misused tokens are refused', async () => {
    const login = await h.request('POST', '/api/auth/login/', { body: { username: 'admin', password: 'admin123' } });
    const payload = { sub: '1', typ: 'access', ver: 0, iss: 'ansflow' };
    const otherKey = createSigner({ key: 'another-key-another-key-another-key', algorithm: 'HS256', expiresIn: 60000 })(payload);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ ...payload, exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url')}.`;
    const expired = createSigner({ key: 'x'.repeat(40), algorithm: 'HS256', expiresIn: 1 })(payload);
    for (const [label, token] of [
      ['another key', otherKey],
      ['alg none', none],
      ['expired', expired],
      ['refresh used as access', login.json.refresh],
      ['garbage', 'not-a-token'],
    ] as const) {
      const r = await h.request('GET', '/api/users/me/', { token });
      assert.equal(r.status, 401, label);
      assert.equal(r.json.error.code, 'AUTHENTICATION_ERROR', label);
    }
    const noToken = await h.request('GET', '/api/pipelines/');
    assert.equal(noToken.status, 401);
    const accessAsRefresh = await h.request('POST', '/api/auth/refresh/', { body: { refresh: login.json.access } });
    assert.equal(accessAsRefresh.status, 401);
  });

  test('an expired access token signed with the server key is refused as expired', async () => {
    const { TokenService } = await import('../../src/services/auth/token-service.js');
    const { loadOrCreateSecretKey } = await import('../../src/services/secret-key.js');
    const key = loadOrCreateSecretKey(null, h.dataDir);
    const short = new TokenService(key, 1, 60).issueAccess({ userId: 1, tokenVersion: 0 });
    await new Promise((r) => setTimeout(r, 1100));
    const r = await h.request('GET', '/api/users/me/', { token: short });
    assert.equal(r.status, 401);
    assert.match(r.json.error.message, /expired/i);
  });
});

describe('users', () => {
  let h: Harness;
  before(async () => {
    h = await startApi();
  });
  after(() => h.close());

  test('GET /api/users/me/ has the document fields', async () => {
    const r = await h.request('GET', '/api/users/me/', { token: await h.login() });
    assert.equal(r.status, 200);
    for (const field of ['id', 'username', 'email', 'first_name', 'last_name', 'is_active', 'date_joined']) assert.ok(field in r.json, field);
    assert.equal(r.json.first_name, 'Admin');
    assert.equal(r.json.is_active, true);
  });

  test('admins list and create users; others get 403', async () => {
    const admin = await h.login();
    const created = await h.request('POST', '/api/users/', {
      token: admin,
      body: { username: 'dev1', password: 'password-123', role: 'developer', email: 'dev1@example.com' },
    });
    assert.equal(created.status, 201);
    assert.equal(created.json.role, 'developer');
    assert.ok(!('password_hash' in created.json));
    const dup = await h.request('POST', '/api/users/', { token: admin, body: { username: 'DEV1', password: 'password-123' } });
    assert.equal(dup.status, 409);
    const list = await h.request('GET', '/api/users/', { token: admin });
    assert.equal(list.status, 200);
    assert.equal(list.json.count, 2);
    const dev = await h.login('dev1', 'password-123');
    assert.equal((await h.request('GET', '/api/users/', { token: dev })).status, 403);
    const denied = await h.request('POST', '/api/users/', { token: dev, body: { username: 'x', password: 'password-123' } });
    assert.equal(denied.status, 403);
    assert.equal(denied.json.error.code, 'PERMISSION_DENIED');
  });

  test('bad user input is a 400 naming the field', async () => {
    const admin = await h.login();
    const r = await h.request('POST', '/api/users/', { token: admin, body: { username: 'ok', password: 'short', email: 'not-an-email' } });
    assert.equal(r.status, 400);
    assert.ok(r.json.error.details.email);
    const weak = await h.request('POST', '/api/users/', { token: admin, body: { username: 'ok', password: 'short' } });
    assert.equal(weak.status, 400);
    assert.ok(weak.json.error.details.password);
  });

  test('updating the profile and changing the password (which revokes tokens)', async () => {
    const token = await h.userToken('changer', 'viewer');
    const patched = await h.request('PATCH', '/api/users/me/', { token, body: { first_name: 'Chan', email: 'c@example.com' } });
    assert.equal(patched.status, 200);
    assert.equal(patched.json.first_name, 'Chan');
    const login = await h.request('POST', '/api/auth/login/', { body: { username: 'changer', password: 'password-123' } });
    const wrong = await h.request('POST', '/api/users/me/password/', { token, body: { current_password: 'nope', new_password: 'new-password-1' } });
    assert.equal(wrong.status, 400);
    const changed = await h.request('POST', '/api/users/me/password/', { token, body: { current_password: 'password-123', new_password: 'new-password-1' } });
    assert.equal(changed.status, 204);
    assert.equal((await h.request('GET', '/api/users/me/', { token })).status, 401, 'old access token revoked');
    assert.equal((await h.request('POST', '/api/auth/refresh/', { body: { refresh: login.json.refresh } })).status, 401, 'old refresh token revoked');
    await h.login('changer', 'new-password-1');
  });
});
