/**
 * Single sign-on rows (migration 011): identities at providers, and sign-ins in progress. Every
 * "use once" step is one guarded UPDATE (`… where consumed_at is null and expires_at > now`), so
 * two requests racing with the same state or login code cannot both win.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { nowIso } from './time.js';

export interface PendingSsoLogin {
  id: number;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
  nextPath: string;
}

export class SsoRepository {
  constructor(private readonly db: Kysely<Database>) {}

  in(tx: Kysely<Database>): SsoRepository {
    return new SsoRepository(tx);
  }

  /** The user linked to (issuer, subject), if any. */
  async userOfIdentity(issuer: string, subject: string): Promise<number | null> {
    const row = await this.db.selectFrom('user_identities').select('user_id').where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirst();
    return row?.user_id ?? null;
  }

  async linkIdentity(userId: number, issuer: string, subject: string): Promise<void> {
    const now = nowIso();
    await this.db.insertInto('user_identities').values({ user_id: userId, issuer, subject, created_at: now, last_login_at: now }).execute();
  }

  async touchIdentity(issuer: string, subject: string): Promise<void> {
    await this.db.updateTable('user_identities').set({ last_login_at: nowIso() }).where('issuer', '=', issuer).where('subject', '=', subject).execute();
  }

  async startLogin(row: {
    stateHash: string;
    browserHash: string;
    nonce: string;
    codeVerifier: string;
    redirectUri: string;
    nextPath: string;
    expiresAt: string;
  }): Promise<void> {
    await this.db
      .insertInto('sso_logins')
      .values({
        state_hash: row.stateHash,
        browser_hash: row.browserHash,
        nonce: row.nonce,
        code_verifier: row.codeVerifier,
        redirect_uri: row.redirectUri,
        next_path: row.nextPath,
        created_at: nowIso(),
        expires_at: row.expiresAt,
      })
      .execute();
  }

  /**
   * Takes the sign-in that `state` names, once: only from the browser that started it and before
   * it expires. Null when the state is unknown, used, expired or from another browser (the caller
   * cannot tell which, and neither can an attacker).
   */
  async consumeState(stateHash: string, browserHash: string): Promise<PendingSsoLogin | null> {
    const now = nowIso();
    const row = await this.db
      .updateTable('sso_logins')
      .set({ consumed_at: now })
      .where('state_hash', '=', stateHash)
      .where('browser_hash', '=', browserHash)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', now)
      .returning(['id', 'nonce', 'code_verifier', 'redirect_uri', 'next_path'])
      .executeTakeFirst();
    return row ? { id: row.id, nonce: row.nonce, codeVerifier: row.code_verifier, redirectUri: row.redirect_uri, nextPath: row.next_path } : null;
  }

  /** The provider said who it is: a one-time login code for the web app to exchange. */
  async completeLogin(id: number, userId: number, loginCodeHash: string, expiresAt: string): Promise<void> {
    await this.db
      .updateTable('sso_logins')
      .set({ user_id: userId, login_code_hash: loginCodeHash, login_code_expires_at: expiresAt })
      .where('id', '=', id)
      .execute();
  }

  /** The user a login code signs in, once, from the browser that started the sign-in. */
  async exchangeCode(loginCodeHash: string, browserHash: string): Promise<{ userId: number; nextPath: string } | null> {
    const now = nowIso();
    const row = await this.db
      .updateTable('sso_logins')
      .set({ exchanged_at: now })
      .where('login_code_hash', '=', loginCodeHash)
      .where('browser_hash', '=', browserHash)
      .where('exchanged_at', 'is', null)
      .where('login_code_expires_at', '>', now)
      .returning(['user_id', 'next_path'])
      .executeTakeFirst();
    return row && row.user_id !== null ? { userId: row.user_id, nextPath: row.next_path } : null;
  }

  /** Forgets sign-ins that can no longer be used (called as new ones start: no timer needed). */
  async deleteExpired(olderThan: string): Promise<void> {
    await this.db.deleteFrom('sso_logins').where('expires_at', '<', olderThan).execute();
  }
}
