/**
 * Sign-in through an OpenID Connect provider, in three requests:
 *   start     a random browser secret (the route keeps it in an HttpOnly cookie) and a sign-in row
 *             holding state (hashed), nonce and PKCE verifier; the browser goes to the provider;
 *   callback  the provider sends the browser back: the state is taken once, only with the cookie of
 *             the browser that started, before it expires; the code is exchanged and the ID token
 *             validated (oidc-client.ts); the account is found by (issuer, subject) or made, its
 *             project roles set from its groups; the browser gets a one-time login code;
 *   exchange  the web app POSTs that code (with the cookie) and gets the normal token pair, so no
 *             token ever travels in a URL that server logs or a Referer could keep.
 * Every sign-in, succeeded or failed, is an audit event; a succeeded one is written in the same
 * transaction as the account and membership changes it made.
 */
import { createHash, randomBytes } from 'node:crypto';
import { auditDiff, type AuditDiff, type RequestOrigin } from '../../../domain/audit.js';
import type { Actor } from '../../../domain/roles.js';
import { groupsOfClaim, numberedUsername, rolesFromGroups, usernameWish } from '../../../domain/sso.js';
import type { OidcConfig } from '../../../sso-config.js';
import { unauthenticated } from '../../../domain/errors.js';
import type { ProjectsRepository } from '../../../store/projects-repository.js';
import type { SsoRepository } from '../../../store/sso-repository.js';
import type { User, UserWithHash, UsersRepository } from '../../../store/users-repository.js';
import { isoAfter } from '../../../store/time.js';
import type { StoreTx } from '../../../store/transaction.js';
import { entry, type AuditLog, type RecordEvent } from '../../audit/audit-log.js';
import { userAuditView, userTarget } from '../../audit/audit-views.js';
import type { AuthService, TokenPair } from '../auth-service.js';
import { withoutHash } from '../public-user.js';
import type { RecentUsers } from '../recent-users.js';
import { OidcClient, SsoFailure, type SsoIdentity } from './oidc-client.js';

/** A sign-in must come back from the provider within this. */
const LOGIN_TTL_SECONDS = 600;
/** The web app exchanges its login code at once; a minute is plenty. */
const CODE_TTL_SECONDS = 60;
/** Not an argon2 hash: no password ever verifies against it (the hasher answers false). */
const NO_PASSWORD = '!sso';

export interface SsoDeps {
  config: OidcConfig;
  sso: SsoRepository;
  users: UsersRepository;
  projects: ProjectsRepository;
  auth: AuthService;
  audit: AuditLog;
  recentUsers?: RecentUsers;
}

export const hashSecret = (value: string) => createHash('sha256').update(value).digest('hex');
const randomSecret = () => randomBytes(32).toString('base64url');

/** Only a path of this site (`/runs/3`), never `//evil.example` or a URL. */
export function safeNextPath(next: string | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.length > 512) return '/';
  return next;
}

export class SsoService {
  readonly client: OidcClient;

  constructor(private readonly deps: SsoDeps) {
    this.client = new OidcClient(deps.config);
  }

  get providerName(): string {
    return this.deps.config.name;
  }

  /** The callback URL when configured (else the route uses the address the browser reached). */
  get redirectUri(): string | null {
    return this.deps.config.redirectUri;
  }

  /** A new sign-in: the provider URL to send the browser to, and the secret for its cookie. */
  async start(input: { redirectUri: string; next?: string }): Promise<{ url: string; browserSecret: string }> {
    const begun = await this.client.begin(input.redirectUri);
    const browserSecret = randomSecret();
    await this.deps.sso.deleteExpired(isoAfter(-3600));
    await this.deps.sso.startLogin({
      stateHash: hashSecret(begun.state),
      browserHash: hashSecret(browserSecret),
      nonce: begun.nonce,
      codeVerifier: begun.codeVerifier,
      redirectUri: input.redirectUri,
      nextPath: safeNextPath(input.next),
      expiresAt: isoAfter(LOGIN_TTL_SECONDS),
    });
    return { url: begun.url, browserSecret };
  }

  /**
   * The provider's answer. Returns the one-time login code for the web app; throws SsoFailure
   * (audited) when anything is missing, replayed, expired, from another browser or invalid.
   */
  async callback(input: { query: URLSearchParams; browserSecret: string | null; origin: RequestOrigin }): Promise<{ loginCode: string }> {
    try {
      const state = input.query.get('state');
      if (!state) throw new SsoFailure('state_invalid', 'The provider answered without a state');
      if (!input.browserSecret) throw new SsoFailure('state_invalid', 'This browser did not start the sign-in (no sign-in cookie)');
      const pending = await this.deps.sso.consumeState(hashSecret(state), hashSecret(input.browserSecret));
      if (!pending) throw new SsoFailure('state_invalid', 'The sign-in is unknown, was already used, has expired or was started in another browser');
      const identity = await this.client.finish(pending.redirectUri, input.query, { state, nonce: pending.nonce, codeVerifier: pending.codeVerifier });
      const loginCode = randomSecret();
      await this.deps.audit.change(async (tx, record) => {
        const user = await this.accountOf(identity, tx, record, input.origin);
        await this.applyGroups(user, identity, tx, record, input.origin);
        await this.deps.sso.in(tx).completeLogin(pending.id, user.id, hashSecret(loginCode), isoAfter(CODE_TTL_SECONDS));
        await record(this.loginEvent('login.succeeded', user, identity, input.origin, null));
      });
      return { loginCode };
    } catch (error) {
      const failure = error instanceof SsoFailure ? error : new SsoFailure('provider_error', error instanceof Error ? error.message : String(error));
      await this.deps.audit.recordAlone(this.loginEvent('login.failed', null, null, input.origin, failure.message));
      throw failure;
    }
  }

  /** The token pair for a login code, once, in the browser that signed in. */
  async exchange(input: { loginCode: string; browserSecret: string | null }): Promise<TokenPair & { user: User; next: string }> {
    if (!input.browserSecret) throw unauthenticated('This browser did not start the sign-in');
    const done = await this.deps.sso.exchangeCode(hashSecret(input.loginCode), hashSecret(input.browserSecret));
    if (!done) throw unauthenticated('The sign-in code is unknown, was already used or has expired');
    const user = await this.deps.users.findById(done.userId);
    if (!user || !user.is_active) throw unauthenticated('User is inactive or no longer exists');
    const pair = await this.deps.auth.issuePair(user);
    return { ...pair, user: withoutHash(user), next: done.nextPath };
  }

  /** The account linked to the identity, or a new one (linked by issuer and subject only). */
  private async accountOf(identity: SsoIdentity, tx: StoreTx, record: RecordEvent, origin: RequestOrigin): Promise<UserWithHash> {
    const sso = this.deps.sso.in(tx);
    const users = this.deps.users.in(tx);
    const linked = await sso.userOfIdentity(identity.issuer, identity.subject);
    if (linked !== null) {
      const user = await users.findById(linked);
      if (!user || !user.is_active) throw new SsoFailure('account', 'This account is deactivated in AnsFlow');
      await sso.touchIdentity(identity.issuer, identity.subject);
      return user;
    }
    const wish = usernameWish(identity.claims);
    const email = typeof identity.claims.email === 'string' && identity.claims.email.length <= 254 ? identity.claims.email : '';
    const names = {
      first_name: typeof identity.claims.given_name === 'string' ? identity.claims.given_name.slice(0, 150) : '',
      last_name: typeof identity.claims.family_name === 'string' ? identity.claims.family_name.slice(0, 150) : '',
    };
    for (let n = 1; n <= 100; n++) {
      const username = n === 1 ? wish : numberedUsername(wish, n);
      const user = await users.create(
        { username, email, ...names, role: this.deps.config.defaultRole, password_hash: NO_PASSWORD },
        { joinDefaultProject: false },
      );
      if (!user) continue;
      await sso.linkIdentity(user.id, identity.issuer, identity.subject);
      const by: Actor & { origin: RequestOrigin } = { id: user.id, username: user.username, role: user.role, origin };
      await record(entry(by, 'user.create', userTarget(user), { ...auditDiff(null, userAuditView(user)), via: { after: 'single sign-on' } }));
      return user;
    }
    throw new SsoFailure('account', `No free username near "${wish}"`);
  }

  /** Sets the user's role in every project the group mapping names, from the groups they have now. */
  private async applyGroups(user: UserWithHash, identity: SsoIdentity, tx: StoreTx, record: RecordEvent, origin: RequestOrigin) {
    const wanted = rolesFromGroups(this.deps.config.groupRoles, groupsOfClaim(identity.claims[this.deps.config.groupsClaim]));
    if (wanted.size === 0) return;
    const projects = this.deps.projects.in(tx);
    const ids = await projects.idsByName([...wanted.keys()]);
    const by = { id: user.id, username: user.username, role: user.role, origin };
    for (const [name, role] of wanted) {
      const projectId = ids.get(name);
      if (projectId === undefined) continue;
      const from = await projects.roleOf(projectId, user.id);
      if (from === role) continue;
      const target = { type: 'membership', id: `${projectId}/${user.id}`, name: user.username };
      const diff: AuditDiff = { ...auditDiff({ role: from }, { role }), via: { after: 'single sign-on groups' } };
      if (role === null) {
        if (from === null) continue;
        // A project keeps its last owner, whatever the groups say.
        if (from === 'owner' && (await projects.countOwners(projectId)) <= 1) continue;
        await projects.removeMember(projectId, user.id);
        await record(entry(by, 'membership.remove', target, diff, projectId));
      } else {
        await projects.setMember(projectId, user.id, role);
        await record(entry(by, from === null ? 'membership.add' : 'membership.change', target, diff, projectId));
      }
    }
    this.deps.recentUsers?.forget(user.id);
  }

  private loginEvent(
    action: 'login.succeeded' | 'login.failed',
    user: UserWithHash | null,
    identity: SsoIdentity | null,
    origin: RequestOrigin,
    reason: string | null,
  ) {
    const actor = user ? { id: user.id, username: user.username, role: user.role, origin } : null;
    const diff: AuditDiff = { method: { after: 'single sign-on' } };
    if (identity) diff.subject = { after: `${identity.issuer} ${identity.subject}`.slice(0, 512) };
    if (reason) diff.reason = { after: reason.slice(0, 512) };
    return { ...entry(actor, action, { type: 'user', id: user?.id ?? null, name: user?.username ?? null }, diff), origin };
  }
}
