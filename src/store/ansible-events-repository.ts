/**
 * An Ansible step's structured events (migration 017), in the order the callback wrote them.
 * `seq` is the step's own counter, given by the writer (one reporter per run), so attempts of a
 * retried step follow each other. Rows go with their run (ON DELETE CASCADE).
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { AnsibleEvent } from '../domain/ansible-events.js';

/** Rows per insert statement (PostgreSQL takes at most 65 535 parameters; 9 columns a row). */
const BATCH = 500;

export class AnsibleEventsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Appends events whose `seq` the caller has already numbered for the step. */
  async append(runId: number, stepId: number, events: readonly AnsibleEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += BATCH)
      await this.db
        .insertInto('ansible_events')
        .values(
          events.slice(i, i + BATCH).map((e) => ({
            run_id: runId,
            step_id: stepId,
            seq: e.seq,
            kind: e.kind,
            host: e.kind === 'host' || e.kind === 'recap' ? e.host : null,
            status: e.kind === 'host' ? e.status : null,
            data: JSON.stringify(e),
            at: e.at,
          })),
        )
        .execute();
  }

  async forStep(runId: number, stepId: number): Promise<AnsibleEvent[]> {
    const rows = await this.db.selectFrom('ansible_events').select('data').where('run_id', '=', runId).where('step_id', '=', stepId).orderBy('seq').execute();
    return rows.map((r) => JSON.parse(r.data) as AnsibleEvent);
  }

  /** The ids of the run's steps that reported Ansible events. */
  async stepsWithEvents(runId: number): Promise<number[]> {
    const rows = await this.db.selectFrom('ansible_events').select('step_id').distinct().where('run_id', '=', runId).orderBy('step_id').execute();
    return rows.map((r) => r.step_id);
  }

  /** The highest seq stored for a step (0 when none): a reporter that starts again goes on from there. */
  async lastSeq(runId: number, stepId: number): Promise<number> {
    const row = await this.db
      .selectFrom('ansible_events')
      .select((eb) => eb.fn.max('seq').as('n'))
      .where('run_id', '=', runId)
      .where('step_id', '=', stepId)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}
