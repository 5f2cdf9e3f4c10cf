/**
 * The claim of an outbox row (commit statuses, notification deliveries): a pending row is taken by
 * one process for a while (a lease), so with several processes each row is sent by one of them; a
 * sender that died is taken over once its lease has run out. One guarded UPDATE, no lock held.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** The tables of outboxes: each has outcome, claimed_by, claim_expires_at and attempts. */
export type OutboxTable = 'commit_statuses' | 'notification_deliveries';

/** Takes the pending row `id` for `owner` until `until`, counting an attempt; false when another process has it or it is settled. */
export async function claimOutboxRow(db: Kysely<Database>, table: OutboxTable, id: number, owner: string, now: string, until: string): Promise<boolean> {
  const result = await db
    .updateTable(table)
    .set((eb) => ({ claimed_by: owner, claim_expires_at: until, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('outcome', '=', 'pending')
    .where((eb) => eb.or([eb('claimed_by', 'is', null), eb('claim_expires_at', '<', now)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
