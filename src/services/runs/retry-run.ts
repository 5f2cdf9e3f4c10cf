/**
 * Retrying a finished run from a step (`from: "failed"` or a step's name or id): a new run on the
 * same commit and definition snapshot, its own number, `retry_of` the original. Which steps are
 * reused and which run again is the domain's call (domain/retry-plan.ts); the reused ones are not
 * run again, their results linked to the original's. The rest start from the workspace as the
 * original left it after the last reused step: its snapshot must be in the store, or the retry is
 * refused (409) saying so and pointing at a full run instead.
 */
import type { Actor } from '../../domain/permissions.js';
import { conflict, notFound, validationError } from '../../domain/errors.js';
import { isFinalRunStatus } from '../../domain/status.js';
import { planRetry } from '../../domain/retry-plan.js';
import type { ArtifactStore } from '../../artifacts/artifact-store.js';
import { snapshotRestorable } from '../../engine/artifacts/workspace-snapshot.js';
import type { Run, RunsRepository } from '../../store/runs-repository.js';
import type { OutputsRepository } from '../../store/outputs-repository.js';
import type { JobQueue } from '../../queue/job-queue.js';
import type { EventBus } from '../../events/event-bus.js';
import type { ProjectAccess } from '../projects/project-access.js';
import type { AuditLog } from '../audit/audit-log.js';
import { entry } from '../audit/audit-log.js';
import { createRetryRun } from '../../store/retry-run-repository.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';

export interface RetryDeps {
  db: Kysely<Database>;
  runs: RunsRepository;
  outputs: OutputsRepository;
  store: ArtifactStore;
  queue: JobQueue;
  events: EventBus;
  access: ProjectAccess;
  audit: AuditLog;
}

export async function retryRun(deps: RetryDeps, actor: Actor, runId: number, from: string | number): Promise<Run> {
  const original = await deps.runs.findById(runId);
  if (!original) throw notFound('Run');
  await deps.access.require(actor, original.project_id, 'run', { what: 'Run', denied: 'Your role in this project does not allow retrying runs' });
  if (!isFinalRunStatus(original.status)) throw conflict(`Run #${original.number} has not finished (${original.status}); retry it once it has.`);
  if (original.pipeline.id === null) throw conflict('The pipeline of this run was deleted; it cannot be run again.');
  if (original.steps.length === 0) throw conflict('This run has no steps to retry (its pipeline file was never planned); run the pipeline again.');

  const fromName = typeof from === 'number' ? original.steps.find((s) => s.id === from)?.name : from;
  if (fromName === undefined) throw validationError({ from: [`Run #${original.number} has no step with id ${from}.`] });
  const definitions = original.definition.steps;
  const plan = planRetry(
    original.steps.map((s) => {
      const d = definitions[s.position];
      return { name: s.name, needs: d?.needs, parallel_group: d?.parallel_group, status: s.status, started_at: s.started_at, finished_at: s.finished_at };
    }),
    fromName,
  );
  if (!plan.ok) throw conflict(plan.reason, { from: [plan.reason] });

  let snapshotKey: string | null = null;
  if (plan.snapshotAfter !== null) {
    const step = original.steps.find((s) => s.name === plan.snapshotAfter)!;
    // A reused step of a retry took no snapshot itself: follow it back to the run that ran it.
    const ranIn = step.reused_from ?? step.id;
    const snapshot = (await deps.outputs.snapshotsOfRun(await runOfStep(deps, ranIn))).find((s) => s.step_run_id === ranIn);
    // An incremental snapshot needs the ones before it too (engine/artifacts/workspace-snapshot.ts).
    const present = snapshot ? await snapshotRestorable(deps.store, snapshot.object_key) : false;
    if (!snapshot || !present)
      throw conflict(
        `No usable workspace snapshot was kept after step "${plan.snapshotAfter}" (it expired, was over the snapshot size limit, or is in a store this server does not share); run the pipeline again from the start instead.`,
        { from: ['no workspace snapshot'], full_rerun: [`POST /api/pipelines/${original.pipeline.id}/run/`] },
      );
    snapshotKey = snapshot.object_key;
  }

  const reused = new Set(original.steps.filter((s) => plan.reuse.includes(s.name)).map((s) => s.id));
  const trigger = {
    type: 'manual' as const,
    user: { id: actor.id, username: actor.username },
    retry: { run_id: original.id, number: original.number, from: fromName, snapshot_key: snapshotKey },
  };
  const created = await createRetryRun(deps.db, { originalId: original.id, trigger, reused }, async (tx, run) => {
    await deps.audit.record(
      tx,
      entry(
        actor,
        'run.retry',
        { type: 'run', id: run.id, name: `${original.pipeline.name} #${run.number}` },
        { retry_of: { after: original.number }, from: { after: fromName }, reused: { after: plan.reuse } },
        run.projectId,
      ),
    );
  });
  if (!created) throw notFound('Run');
  deps.events.publish({
    type: 'run_status',
    runId: created.id,
    pipelineId: created.pipelineId,
    status: 'queued',
    progress: 0,
    currentStep: null,
    at: new Date().toISOString(),
  });
  deps.queue.notify({ runId: created.id, pipelineId: created.pipelineId, labels: created.labels === '' ? [] : created.labels.split(',') });
  return (await deps.runs.findById(created.id))!;
}

async function runOfStep(deps: RetryDeps, stepId: number): Promise<number> {
  const row = await deps.db.selectFrom('step_runs').select('run_id').where('id', '=', stepId).executeTakeFirst();
  return row?.run_id ?? 0;
}
