import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

/**
 * Single sign-on (OpenID Connect).
 *
 * `user_identities` links a user to an account at an identity provider by (issuer, subject), the
 * pair the provider promises never to reuse; never by username or e-mail, which an account at the
 * provider may choose freely (an IdP account called `admin` must not become the local admin).
 *
 * `sso_logins` is one sign-in in progress, in two phases, each single-use and short-lived:
 *   1. sent to the provider: the SHA-256 of `state`, the nonce and PKCE verifier, the redirect URI,
 *      and the SHA-256 of a random value kept in the browser's cookie (the login is bound to the
 *      browser that started it); `consumed_at` is set by the one callback that may use it;
 *   2. back from the provider: the SHA-256 of a one-time login code the web app exchanges (POST,
 *      with the same cookie) for the normal token pair; `exchanged_at` is set by that exchange.
 * Only hashes of what travels in URLs or cookies are kept, so a copy of the table signs nobody in.
 */
export function sso(dialect: Dialect) {
  const id = dialect === 'postgres' ? sql`serial primary key` : sql`integer primary key autoincrement`;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('user_identities')
        .addColumn('id', sql`${id}` as never)
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_login_at', 'text')
        .addUniqueConstraint('user_identities_issuer_subject', ['issuer', 'subject'])
        .execute();
      await db.schema.createIndex('user_identities_user').on('user_identities').column('user_id').execute();

      await db.schema
        .createTable('sso_logins')
        .addColumn('id', sql`${id}` as never)
        .addColumn('state_hash', 'text', (c) => c.notNull().unique())
        .addColumn('browser_hash', 'text', (c) => c.notNull())
        .addColumn('nonce', 'text', (c) => c.notNull())
        .addColumn('code_verifier', 'text', (c) => c.notNull())
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('next_path', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('consumed_at', 'text')
        .addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('cascade'))
        .addColumn('login_code_hash', 'text', (c) => c.unique())
        .addColumn('login_code_expires_at', 'text')
        .addColumn('exchanged_at', 'text')
        .execute();
      await db.schema.createIndex('sso_logins_expires').on('sso_logins').column('expires_at').execute();
    },
  };
}
