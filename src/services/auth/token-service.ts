/**
 * Signs and verifies JWTs. HS256 is pinned: a token with `alg: none` or any other algorithm is
 * refused. A `typ` claim separates access from refresh tokens, so one can never stand in for the
 * other; access tokens carry the user's token version, bumped when the password changes.
 *
 * `iss` and `aud` are set and required (RFC 7519 4.1.3, RFC 8725 3.9): access and refresh tokens
 * have audiences of their own, so a token signed with our key for another purpose (a refresh
 * token, later a personal token) is never accepted where it was not meant to be.
 */
import { randomUUID, hkdfSync } from 'node:crypto';
import { createSigner, createVerifier } from 'fast-jwt';

export interface AccessClaims {
  userId: number;
  tokenVersion: number;
}

export interface RefreshClaims {
  userId: number;
  jti: string;
  familyId: string;
  expiresAt: Date;
}

export class InvalidTokenError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidTokenError';
  }
}

const ISSUER = 'ansflow';
export const ACCESS_AUDIENCE = 'ansflow:access';
export const REFRESH_AUDIENCE = 'ansflow:refresh';
/** What every verifier requires: our issuer, one of our audiences (each verify* then checks its own). */
const CLAIM_CHECKS = {
  allowedIss: ISSUER,
  allowedAud: [ACCESS_AUDIENCE, REFRESH_AUDIENCE],
  requiredClaims: ['sub', 'typ', 'exp', 'iss', 'aud'],
};

export class TokenService {
  private readonly signAccessToken: (payload: Record<string, unknown>) => string;
  private readonly signRefreshToken: (payload: Record<string, unknown>) => string;
  /** One verifier per key of the ring, the current key first (tokens signed before a key rotation stay valid). */
  private readonly verifiers: Array<(token: string) => Record<string, unknown>>;

  constructor(
    secretKeys: string | readonly string[],
    accessTtlSeconds: number,
    private readonly refreshTtlSeconds: number,
  ) {
    const keys = (typeof secretKeys === 'string' ? [secretKeys] : secretKeys).map((k) => Buffer.from(hkdfSync('sha256', k, 'ansflow', 'jwt-hs256', 32)));
    const key = keys[0]!;
    this.signAccessToken = createSigner({ key, algorithm: 'HS256', expiresIn: accessTtlSeconds * 1000, iss: ISSUER, aud: ACCESS_AUDIENCE });
    this.signRefreshToken = createSigner({ key, algorithm: 'HS256', expiresIn: refreshTtlSeconds * 1000, iss: ISSUER, aud: REFRESH_AUDIENCE });
    // The cache makes repeated verification of the same access token cheap (hot path of every request).
    this.verifiers = keys.map((k) => createVerifier({ key: k, algorithms: ['HS256'], ...CLAIM_CHECKS, cache: 10000 }));
  }

  issueAccess(claims: AccessClaims): string {
    return this.signAccessToken({ sub: String(claims.userId), typ: 'access', ver: claims.tokenVersion });
  }

  issueRefresh(userId: number, familyId: string = randomUUID()): { token: string; claims: RefreshClaims } {
    const jti = randomUUID();
    const token = this.signRefreshToken({ sub: String(userId), typ: 'refresh', jti, fam: familyId });
    return { token, claims: { userId, jti, familyId, expiresAt: new Date(Date.now() + this.refreshTtlSeconds * 1000) } };
  }

  verifyAccess(token: string): AccessClaims {
    const payload = this.decode(token);
    if (payload.typ !== 'access' || payload.aud !== ACCESS_AUDIENCE) throw new InvalidTokenError('Token is not an access token');
    const userId = Number(payload.sub);
    if (!Number.isSafeInteger(userId) || typeof payload.ver !== 'number') throw new InvalidTokenError('Token claims are malformed');
    return { userId, tokenVersion: payload.ver };
  }

  verifyRefresh(token: string): RefreshClaims {
    const payload = this.decode(token);
    if (payload.typ !== 'refresh' || payload.aud !== REFRESH_AUDIENCE) throw new InvalidTokenError('Token is not a refresh token');
    const userId = Number(payload.sub);
    if (!Number.isSafeInteger(userId) || typeof payload.jti !== 'string' || typeof payload.fam !== 'string')
      throw new InvalidTokenError('Token claims are malformed');
    return { userId, jti: payload.jti, familyId: payload.fam, expiresAt: new Date(Number(payload.exp) * 1000) };
  }

  private decode(token: string): Record<string, unknown> {
    let code: string | undefined;
    for (const verify of this.verifiers) {
      try {
        return verify(token);
      } catch (error) {
        code = (error as { code?: string }).code;
        // Only a bad signature may mean another key of the ring signed it.
        if (code !== 'FAST_JWT_INVALID_SIGNATURE') break;
      }
    }
    throw new InvalidTokenError(code === 'FAST_JWT_EXPIRED' ? 'Token has expired' : 'Token is invalid');
  }
}
