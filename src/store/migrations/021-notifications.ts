import type { Kysely } from 'kysely';

/**
 * Notifications fed from run events (issue 13; the channel and outbox tables are migration 018's).
 *
 * `pipeline_runs.notified`: the last state of the run whose notification events were written to
 * the outbox (`waiting`: approval requested; `final`: its outcome), written in the same
 * transaction as the deliveries. Every API process hears run events and writes them; this mark
 * lets the sweep for lost events find the runs nobody wrote yet without looking at any other.
 */
export function notifications() {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('pipeline_runs').addColumn('notified', 'text').execute();
    },
  };
}
