/**
 * Writing a retry: a new run of the same pipeline (its own number) with the original's definition
 * snapshot, variables (still sealed: copied as stored), branch and commit; the reused steps written
 * as they ended in the original, linked by `reused_from`; the others pending; and its queue job.
 * One transaction, as a trigger is (runs-repository.ts create), with the caller's audit event in it.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { RunTrigger } from './runs-repository.js';
import { requiredLabels, type PipelineDefinition } from '../domain/pipeline.js';
import { labelKey } from '../domain/labels.js';
import { nowIso } from './time.js';

export interface NewRetry {
  originalId: number;
  trigger: RunTrigger;
  /** Original step ids reused, by position. */
  reused: ReadonlySet<number>;
}

/** The new run's id, or null when the original or its pipeline is gone. */
export async function createRetryRun(
  db: Kysely<Database>,
  input: NewRetry,
  inTransaction: (tx: Kysely<Database>, run: { id: number; number: number; projectId: number; pipelineId: number }) => Promise<void>,
): Promise<{ id: number; pipelineId: number; labels: string } | null> {
  return db.transaction().execute(async (trx) => {
    const original = await trx.selectFrom('pipeline_runs').selectAll().where('id', '=', input.originalId).executeTakeFirst();
    if (!original || original.pipeline_id === null) return null;
    const counter = await trx
      .updateTable('pipelines')
      .set((eb) => ({ run_counter: eb('run_counter', '+', 1) }))
      .where('id', '=', original.pipeline_id)
      .returning(['run_counter', 'project_id'])
      .executeTakeFirst();
    if (!counter) return null;
    const now = nowIso();
    const run = await trx
      .insertInto('pipeline_runs')
      .values({
        pipeline_id: original.pipeline_id,
        project_id: original.project_id,
        pipeline_name: original.pipeline_name,
        number: counter.run_counter,
        status: 'queued',
        trigger_type: input.trigger.type,
        trigger_user_id: input.trigger.user?.id ?? null,
        trigger: JSON.stringify(input.trigger),
        branch: original.branch,
        commit_sha: original.commit_sha,
        variables: original.variables,
        definition: original.definition,
        error_reason: null,
        cancel_requested_at: null,
        secrets_withheld: original.secrets_withheld,
        created_at: now,
        started_at: null,
        finished_at: null,
        retry_of: original.id,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const steps = await trx.selectFrom('step_runs').selectAll().where('run_id', '=', original.id).orderBy('position').execute();
    if (steps.length > 0)
      await trx
        .insertInto('step_runs')
        .values(
          steps.map((s) =>
            input.reused.has(s.id)
              ? {
                  run_id: run.id,
                  position: s.position,
                  name: s.name,
                  type: s.type,
                  parallel_group: s.parallel_group,
                  status: s.status,
                  started_at: s.started_at,
                  finished_at: s.finished_at,
                  exit_code: s.exit_code,
                  attempts: s.attempts,
                  message: s.message,
                  log_size: 0,
                  reused_from: s.reused_from ?? s.id,
                }
              : {
                  run_id: run.id,
                  position: s.position,
                  name: s.name,
                  type: s.type,
                  parallel_group: s.parallel_group,
                  status: 'pending',
                  started_at: null,
                  finished_at: null,
                  exit_code: null,
                  attempts: 0,
                  message: null,
                  log_size: 0,
                },
          ),
        )
        .execute();
    await trx.updateTable('pipelines').set({ last_run_id: run.id }).where('id', '=', original.pipeline_id).execute();
    const labels = labelKey(requiredLabels((JSON.parse(original.definition) as PipelineDefinition).steps));
    await trx
      .insertInto('run_queue')
      .values({ run_id: run.id, pipeline_id: original.pipeline_id, enqueued_at: now, state: 'queued', claimed_by: null, lease_expires_at: null, labels })
      .execute();
    await inTransaction(trx, { id: run.id, number: counter.run_counter, projectId: original.project_id, pipelineId: original.pipeline_id });
    return { id: run.id, pipelineId: original.pipeline_id, labels };
  });
}
