import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hkdfSync } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import { ACCESS_AUDIENCE, InvalidTokenError, REFRESH_AUDIENCE, TokenService } from './token-service.js';

const SECRET = 'k'.repeat(48);
const tokens = new TokenService(SECRET, 900, 3600);
const key = Buffer.from(hkdfSync('sha256', SECRET, 'ansflow', 'jwt-hs256', 32));
/** A token signed with the service's own key, with whatever claims the test wants. */
const forge = (payload: Record<string, unknown>) => createSigner({ key, algorithm: 'HS256', expiresIn: 60_000 })(payload);
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));

test('access and refresh tokens carry the issuer and audiences of their own', () => {
  const access = claimsOf(tokens.issueAccess({ userId: 1, tokenVersion: 0 }));
  assert.equal(access.iss, 'ansflow');
  assert.equal(access.aud, ACCESS_AUDIENCE);
  const refresh = claimsOf(tokens.issueRefresh(1).token);
  assert.equal(refresh.iss, 'ansflow');
  assert.equal(refresh.aud, REFRESH_AUDIENCE);
  assert.notEqual(ACCESS_AUDIENCE, REFRESH_AUDIENCE);
});

test('a token signed with the right key for another audience or issuer, or without them, is refused', () => {
  const access = { sub: '1', typ: 'access', ver: 0 };
  assert.deepEqual(tokens.verifyAccess(forge({ ...access, iss: 'ansflow', aud: ACCESS_AUDIENCE })), { userId: 1, tokenVersion: 0 });
  for (const claims of [
    { iss: 'ansflow', aud: REFRESH_AUDIENCE },
    { iss: 'ansflow', aud: 'ansflow:personal' },
    { iss: 'ansflow', aud: [ACCESS_AUDIENCE, 'ansflow:personal'] },
    { iss: 'ansflow' },
    { iss: 'someone-else', aud: ACCESS_AUDIENCE },
    { aud: ACCESS_AUDIENCE },
  ])
    assert.throws(() => tokens.verifyAccess(forge({ ...access, ...claims })), InvalidTokenError, JSON.stringify(claims));

  const refresh = { sub: '1', typ: 'refresh', jti: 'j', fam: 'f' };
  assert.equal(tokens.verifyRefresh(forge({ ...refresh, iss: 'ansflow', aud: REFRESH_AUDIENCE })).userId, 1);
  for (const claims of [{ iss: 'ansflow', aud: ACCESS_AUDIENCE }, { iss: 'ansflow' }, { iss: 'x', aud: REFRESH_AUDIENCE }])
    assert.throws(() => tokens.verifyRefresh(forge({ ...refresh, ...claims })), InvalidTokenError, JSON.stringify(claims));
});
