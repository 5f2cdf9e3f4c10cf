import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { nowIso } from './time.js';

export type RefreshTokenState = 'active' | 'rotated' | 'revoked' | 'expired' | 'unknown';

/**
 * Refresh tokens are remembered by their id (`jti`), grouped in families: each rotation adds a
 * token to the family of the one it replaces. Presenting a rotated token means it was stolen or
 * replayed, so the caller revokes the whole family.
 */
export class RefreshTokensRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(token: { jti: string; userId: number; familyId: string; expiresAt: string }): Promise<void> {
    await this.db
      .insertInto('refresh_tokens')
      .values({
        jti: token.jti,
        user_id: token.userId,
        family_id: token.familyId,
        created_at: nowIso(),
        expires_at: token.expiresAt,
        rotated_at: null,
        revoked_at: null,
      })
      .execute();
  }

  async state(jti: string): Promise<{ state: RefreshTokenState; familyId: string | null; userId: number | null }> {
    const row = await this.db.selectFrom('refresh_tokens').selectAll().where('jti', '=', jti).executeTakeFirst();
    if (!row) return { state: 'unknown', familyId: null, userId: null };
    const state: RefreshTokenState = row.revoked_at ? 'revoked' : row.rotated_at ? 'rotated' : row.expires_at <= nowIso() ? 'expired' : 'active';
    return { state, familyId: row.family_id, userId: row.user_id };
  }

  /** Marks the token rotated only if it still is active; false means someone else used it first. */
  async markRotated(jti: string): Promise<boolean> {
    const result = await this.db
      .updateTable('refresh_tokens')
      .set({ rotated_at: nowIso() })
      .where('jti', '=', jti)
      .where('rotated_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async revokeFamily(familyId: string): Promise<void> {
    await this.db.updateTable('refresh_tokens').set({ revoked_at: nowIso() }).where('family_id', '=', familyId).where('revoked_at', 'is', null).execute();
  }

  async revokeAllForUser(userId: number): Promise<void> {
    await this.db.updateTable('refresh_tokens').set({ revoked_at: nowIso() }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
  }
}
