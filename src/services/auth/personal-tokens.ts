/**
 * Personal access tokens: `afp_` + 32 base62 characters (190 random bits), shown once, kept only
 * as their SHA-256. A token acts as its user limited to its scopes; it can never hold more than the
 * user's role allows, nor more than the token that created it. Expired and revoked tokens are 401.
 */
import { createHash, randomBytes } from 'node:crypto';
import { notFound, unauthenticated, validationError, type ErrorDetails } from '../../domain/errors.js';
import { auditDiff } from '../../domain/audit.js';
import type { Actor } from '../../domain/roles.js';
import { normalizeScopes, scopesAllow, scopesOfRole, type TokenScope } from '../../domain/token-scopes.js';
import type { PersonalToken, PersonalTokensRepository } from '../../store/personal-tokens-repository.js';
import type { UserWithHash } from '../../store/users-repository.js';
import type { AuditLog } from '../audit/audit-log.js';
import { entry } from '../audit/audit-log.js';

export const TOKEN_PREFIX = 'afp_';
const TOKEN_CHARS = 32;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const MAX_TOKEN_DAYS = 366;
export const DEFAULT_TOKEN_DAYS = 90;
const MAX_NAME_LENGTH = 100;
/** last_used_at is written at most this often per token (and never on the request's path). */
const TOUCH_INTERVAL_MS = 60_000;
const DAY_MS = 86_400_000;

export interface NewTokenInput {
  name: string;
  scopes: TokenScope[];
  /** ISO time; absent: DEFAULT_TOKEN_DAYS from now. */
  expires_at?: string;
}

export const isPersonalToken = (token: string) => token.startsWith(TOKEN_PREFIX);

export function newTokenSecret(): string {
  let out = '';
  while (out.length < TOKEN_CHARS) {
    // 248 = 4 × 62: bytes above it are dropped, so every character is equally likely.
    for (const byte of randomBytes(TOKEN_CHARS)) if (byte < 248 && out.length < TOKEN_CHARS) out += BASE62[byte % 62];
  }
  return TOKEN_PREFIX + out;
}

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export interface PersonalTokensDeps {
  tokens: PersonalTokensRepository;
  users: { get(id: number): Promise<UserWithHash | null> };
  audit: AuditLog;
}

export class PersonalTokens {
  private readonly touched = new Map<number, number>();

  constructor(private readonly deps: PersonalTokensDeps) {}

  list(actor: Actor): Promise<PersonalToken[]> {
    return this.deps.tokens.listForUser(actor.id);
  }

  async create(actor: Actor, input: NewTokenInput, now = Date.now()): Promise<{ token: PersonalToken; secret: string }> {
    const details: ErrorDetails = {};
    const name = input.name.trim();
    if (name.length === 0) details.name = ['This field may not be blank.'];
    else if (name.length > MAX_NAME_LENGTH) details.name = [`At most ${MAX_NAME_LENGTH} characters.`];
    const scopes = normalizeScopes(input.scopes);
    const allowed = scopesOfRole(actor.role).filter((s) => actor.scopes === undefined || scopesAllow(actor.scopes, s));
    const excess = scopes.filter((s) => !allowed.includes(s));
    if (scopes.length === 0) details.scopes = ['Choose at least one scope.'];
    else if (excess.length > 0)
      details.scopes = [
        `You cannot give a token ${excess.map((s) => `"${s}"`).join(', ')}: you may give ${allowed.map((s) => `"${s}"`).join(', ') || 'none'}.`,
      ];
    const expiresAt = input.expires_at === undefined ? new Date(now + DEFAULT_TOKEN_DAYS * DAY_MS) : new Date(input.expires_at);
    if (Number.isNaN(expiresAt.getTime())) details.expires_at = ['Must be a date and time (ISO 8601).'];
    else if (expiresAt.getTime() <= now) details.expires_at = ['Must be in the future.'];
    else if (expiresAt.getTime() > now + MAX_TOKEN_DAYS * DAY_MS) details.expires_at = [`At most ${MAX_TOKEN_DAYS} days from now.`];
    if (Object.keys(details).length > 0) throw validationError(details);

    const secret = newTokenSecret();
    const token = await this.deps.audit.change(async (tx, record) => {
      const created = await this.deps.tokens.in(tx).create({ userId: actor.id, name, hash: hashToken(secret), scopes, expiresAt: expiresAt.toISOString() });
      await record(
        entry(
          actor,
          'token.create',
          tokenTarget(created),
          auditDiff(null, { name, scopes, expires_at: created.expires_at, user_id: actor.id, token: '******' }),
        ),
      );
      return created;
    });
    return { token, secret };
  }

  async revoke(actor: Actor, id: number): Promise<void> {
    const token = await this.deps.tokens.findForUser(actor.id, id);
    if (!token) throw notFound('Token');
    const revoked = await this.deps.audit.change(async (tx, record) => {
      if (!(await this.deps.tokens.in(tx).revoke(id))) return false;
      await record(entry(actor, 'token.revoke', tokenTarget(token), auditDiff({ revoked: false }, { revoked: true })));
      return true;
    });
    if (!revoked) throw notFound('Token');
  }

  /** The user behind a token and the token's scopes, or AUTHENTICATION_ERROR. */
  async authenticate(secret: string, now = Date.now()): Promise<{ user: UserWithHash; scopes: TokenScope[] }> {
    const token = await this.deps.tokens.findByHash(hashToken(secret));
    if (!token || token.revoked_at !== null) throw unauthenticated('Token is invalid or was revoked');
    if (Date.parse(token.expires_at) <= now) throw unauthenticated('Token has expired');
    const user = await this.deps.users.get(token.user_id);
    if (!user || !user.is_active) throw unauthenticated('User is inactive or no longer exists');
    this.touch(token.id, now);
    // A role lowered after the token was made lowers what the token can do.
    const allowed = scopesOfRole(user.role);
    const scopes = normalizeScopes(token.scopes.map((s) => (allowed.includes(s) ? s : allowed[allowed.length - 1]!)));
    return { user, scopes };
  }

  /** Records the use at most once a minute per token, without making the request wait. */
  private touch(id: number, now: number): void {
    const last = this.touched.get(id);
    if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return;
    if (this.touched.size >= 10_000) this.touched.clear();
    this.touched.set(id, now);
    setImmediate(() => {
      this.deps.tokens.touch(id, new Date(now).toISOString()).catch(() => this.touched.delete(id));
    });
  }
}

const tokenTarget = (token: PersonalToken) => ({ type: 'token', id: token.id, name: token.name });
