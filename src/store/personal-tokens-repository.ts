/**
 * Personal access tokens at rest: the SHA-256 of the token, never the token. A lookup is by that
 * hash (an index probe), so no secret is ever compared byte by byte in our code.
 */
import type { Kysely } from 'kysely';
import type { Database, PersonalTokenRow } from './schema.js';
import type { TokenScope } from '../domain/token-scopes.js';
import { nowIso } from './time.js';

export interface PersonalToken {
  id: number;
  user_id: number;
  name: string;
  scopes: TokenScope[];
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

const toToken = (row: PersonalTokenRow): PersonalToken => ({
  id: row.id,
  user_id: row.user_id,
  name: row.name,
  scopes: JSON.parse(row.scopes) as TokenScope[],
  created_at: row.created_at,
  expires_at: row.expires_at,
  last_used_at: row.last_used_at,
  revoked_at: row.revoked_at,
});

export class PersonalTokensRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The same repository working inside a transaction. */
  in(tx: Kysely<Database>): PersonalTokensRepository {
    return new PersonalTokensRepository(tx);
  }

  async create(token: { userId: number; name: string; hash: string; scopes: TokenScope[]; expiresAt: string }): Promise<PersonalToken> {
    const row = await this.db
      .insertInto('personal_tokens')
      .values({
        user_id: token.userId,
        name: token.name,
        token_hash: token.hash,
        scopes: JSON.stringify(token.scopes),
        created_at: nowIso(),
        expires_at: token.expiresAt,
        last_used_at: null,
        revoked_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toToken(row);
  }

  async findByHash(hash: string): Promise<PersonalToken | null> {
    const row = await this.db.selectFrom('personal_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
    return row ? toToken(row) : null;
  }

  /** A user's tokens that are not revoked, newest first (expired ones stay listed until revoked). */
  async listForUser(userId: number): Promise<PersonalToken[]> {
    const rows = await this.db
      .selectFrom('personal_tokens')
      .selectAll()
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toToken);
  }

  async findForUser(userId: number, id: number): Promise<PersonalToken | null> {
    const row = await this.db
      .selectFrom('personal_tokens')
      .selectAll()
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row ? toToken(row) : null;
  }

  async revoke(id: number): Promise<boolean> {
    const result = await this.db
      .updateTable('personal_tokens')
      .set({ revoked_at: nowIso() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async touch(id: number, at: string): Promise<void> {
    await this.db.updateTable('personal_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }
}
