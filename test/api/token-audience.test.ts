/**
 * Through the real API: a token signed with the platform's own key but for another audience or
 * issuer (or without them) is a 401, wherever it is presented (RFC 7519 4.1.3, RFC 8725 3.9).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hkdfSync } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import { startApi, type Harness } from '../support/api-harness.js';

const SECRET_KEY = 'token-audience-test-key-0123456789abcdef';

describe('token audiences and issuer', () => {
  let h: Harness;
  let forge: (payload: Record<string, unknown>) => string;
  let user: { sub: string; ver: number };
  before(async () => {
    h = await startApi({}, { ANSFLOW_SECRET_KEY: SECRET_KEY });
    const key = Buffer.from(hkdfSync('sha256', SECRET_KEY, 'ansflow', 'jwt-hs256', 32));
    forge = (payload) => createSigner({ key, algorithm: 'HS256', expiresIn: 60_000 })(payload);
    const real = JSON.parse(Buffer.from((await h.login()).split('.')[1]!, 'base64url').toString('utf8'));
    assert.equal(real.aud, 'ansflow:access');
    assert.equal(real.iss, 'ansflow');
    user = { sub: real.sub, ver: real.ver };
  });
  after(() => h.close());

  test('the right audience and issuer open the API (the forged key is the real one)', async () => {
    const r = await h.request('GET', '/api/pipelines/', { token: forge({ ...user, typ: 'access', iss: 'ansflow', aud: 'ansflow:access' }) });
    assert.equal(r.status, 200, r.text);
  });

  test('another audience or issuer, or none, is 401 with the unified body', async () => {
    for (const claims of [
      { aud: 'ansflow:refresh', iss: 'ansflow' },
      { aud: 'ansflow:personal', iss: 'ansflow' },
      { aud: 'https://other.example', iss: 'ansflow' },
      { iss: 'ansflow' },
      { aud: 'ansflow:access', iss: 'https://other.example' },
      { aud: 'ansflow:access' },
    ]) {
      const r = await h.request('GET', '/api/pipelines/', { token: forge({ ...user, typ: 'access', ...claims }) });
      assert.equal(r.status, 401, JSON.stringify(claims));
      assert.equal(r.json.error.code, 'AUTHENTICATION_ERROR');
    }
  });

  test('a refresh token for the access audience cannot be used to refresh', async () => {
    const refresh = forge({ sub: user.sub, typ: 'refresh', jti: 'forged', fam: 'forged', iss: 'ansflow', aud: 'ansflow:access' });
    const r = await h.request('POST', '/api/auth/refresh/', { body: { refresh } });
    assert.equal(r.status, 401, r.text);
  });
});
