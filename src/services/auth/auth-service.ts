/**
 * Login, refresh (rotation with reuse detection), logout, and turning an access token into the
 * acting user. Every failure is the same AUTHENTICATION_ERROR so nothing leaks which part was wrong.
 */
import { AppError, permissionDenied, unauthenticated } from '../../domain/errors.js';
import type { RefreshTokensRepository } from '../../store/refresh-tokens-repository.js';
import type { User, UsersRepository } from '../../store/users-repository.js';
import type { LoginThrottle } from './login-throttle.js';
import type { PasswordHasher } from './password-hasher.js';
import { withoutHash } from './public-user.js';
import type { RecentUsers } from './recent-users.js';
import { InvalidTokenError, type TokenService } from './token-service.js';
import { isPersonalToken, type PersonalTokens } from './personal-tokens.js';
import type { TokenScope } from '../../domain/token-scopes.js';
import type { RequestOrigin } from '../../domain/audit.js';
import { entry, type AuditLog } from '../audit/audit-log.js';

export interface TokenPair {
  access: string;
  refresh: string;
}

export interface AuthDeps {
  users: UsersRepository;
  refreshTokens: RefreshTokensRepository;
  tokens: TokenService;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  recentUsers: RecentUsers;
  /** Personal access tokens (`afp_…`), accepted wherever an access token is. */
  personalTokens?: PersonalTokens;
  /** Logins, succeeded and failed, are audited. */
  audit?: AuditLog;
  /**
   * Password sign-in (ANSFLOW_PASSWORD_LOGIN): when off, only the break-glass user signs in with
   * a password (everyone else through single sign-on). Undefined: on.
   */
  passwordLogin?: { enabled: boolean; breakGlassUser: string };
}

/** The acting user; `scopes` is set when a personal access token authenticated the request. */
export type AuthenticatedUser = User & { scopes?: TokenScope[] };

export class AuthService {
  constructor(private readonly deps: AuthDeps) {}

  async login(input: { username: string; password: string; client: string; userAgent?: string | null }): Promise<TokenPair & { user: User }> {
    const { users, hasher, throttle } = this.deps;
    const origin: RequestOrigin = { ip: input.client, userAgent: input.userAgent ?? null };
    const wait = throttle.retryAfter(input.client, input.username);
    if (wait > 0) {
      await this.auditLogin('login.failed', null, input.username, origin, 'throttled');
      throw new AppError('RATE_LIMIT_EXCEEDED', `Too many failed login attempts; try again in ${wait} seconds`, {}, { 'Retry-After': String(wait) });
    }
    const policy = this.deps.passwordLogin;
    if (policy && !policy.enabled && input.username.toLowerCase() !== policy.breakGlassUser.toLowerCase()) {
      // Refused before any password is checked: the answer says nothing about the account.
      await this.auditLogin('login.failed', null, input.username, origin, 'password login is off');
      throw permissionDenied('Password sign-in is turned off on this server; use single sign-on');
    }
    const user = await users.findByUsername(input.username);
    const ok = await hasher.verify(user?.password_hash ?? null, input.password);
    if (!user || !ok || !user.is_active) {
      throttle.recordFailure(input.client, input.username);
      await this.auditLogin('login.failed', user, input.username, origin, !user ? 'unknown user' : !ok ? 'wrong password' : 'inactive user');
      throw unauthenticated('Invalid username or password');
    }
    throttle.recordSuccess(input.client, input.username);
    const pair = await this.issuePair(user);
    await this.auditLogin('login.succeeded', user, input.username, origin, null);
    return { ...pair, user: withoutHash(user) };
  }

  /** A login attempt in the audit log, with the username tried (the actor only when it succeeded). */
  private async auditLogin(action: string, user: User | null, tried: string, origin: RequestOrigin, reason: string | null): Promise<void> {
    if (!this.deps.audit) return;
    const actor = action === 'login.succeeded' && user ? { id: user.id, username: user.username, role: user.role, origin } : null;
    const event = entry(actor, action, { type: 'user', id: user?.id ?? null, name: tried.slice(0, 150) }, reason ? { reason: { after: reason } } : null);
    await this.deps.audit.recordAlone({ ...event, origin });
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    const { refreshTokens, users } = this.deps;
    const claims = this.verifyRefresh(refreshToken);
    const known = await refreshTokens.state(claims.jti);
    if (known.state === 'rotated') {
      // A rotated token presented again: someone holds a copy. End the whole session family.
      await refreshTokens.revokeFamily(claims.familyId);
      throw unauthenticated('Refresh token was already used; the session has been revoked');
    }
    if (known.state !== 'active') throw unauthenticated('Refresh token is no longer valid');
    if (!(await refreshTokens.markRotated(claims.jti))) {
      await refreshTokens.revokeFamily(claims.familyId);
      throw unauthenticated('Refresh token was already used; the session has been revoked');
    }
    const user = await users.findById(claims.userId);
    if (!user || !user.is_active) throw unauthenticated('User is inactive or no longer exists');
    return this.issuePair(user, claims.familyId);
  }

  /**
   * Ends the session the refresh token belongs to: its whole family, not only this token. A client
   * may hold a token its own background refresh (or another tab) has just rotated; revoking only
   * that one left the newer token, and so the session, alive after a logout.
   */
  async logout(refreshToken: string): Promise<void> {
    const claims = this.verifyRefresh(refreshToken);
    await this.deps.refreshTokens.revokeFamily(claims.familyId);
  }

  /** The user behind an access token or a personal access token, or AUTHENTICATION_ERROR. */
  async authenticate(accessToken: string): Promise<AuthenticatedUser> {
    if (isPersonalToken(accessToken)) {
      if (!this.deps.personalTokens) throw unauthenticated('Token is invalid');
      const { user, scopes } = await this.deps.personalTokens.authenticate(accessToken);
      return { ...withoutHash(user), scopes };
    }
    let claims;
    try {
      claims = this.deps.tokens.verifyAccess(accessToken);
    } catch (error) {
      throw unauthenticated(error instanceof InvalidTokenError ? error.message : 'Token is invalid');
    }
    const user = await this.deps.recentUsers.get(claims.userId);
    if (!user || !user.is_active) throw unauthenticated('User is inactive or no longer exists');
    if (user.token_version !== claims.tokenVersion) throw unauthenticated('Token was revoked; log in again');
    return withoutHash(user);
  }

  /** A new access token and refresh token; the refresh token continues `familyId` (rotation) or starts a new family. */
  async issuePair(user: User, familyId?: string): Promise<TokenPair> {
    const { tokens, refreshTokens } = this.deps;
    const refresh = tokens.issueRefresh(user.id, familyId);
    await refreshTokens.insert({
      jti: refresh.claims.jti,
      userId: user.id,
      familyId: refresh.claims.familyId,
      expiresAt: refresh.claims.expiresAt.toISOString(),
    });
    return { access: tokens.issueAccess({ userId: user.id, tokenVersion: user.token_version }), refresh: refresh.token };
  }

  private verifyRefresh(token: string) {
    try {
      return this.deps.tokens.verifyRefresh(token);
    } catch (error) {
      throw unauthenticated(error instanceof InvalidTokenError ? error.message : 'Token is invalid');
    }
  }
}
