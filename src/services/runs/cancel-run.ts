/**
 * Cancelling: idempotent while the run is unfinished; a finished run is a 409. A queued run ends
 * here; a running one is aborted by the process that runs it (its AbortSignal), which settles it.
 */
import { conflict, notFound } from '../../domain/errors.js';
import { isFinalRunStatus } from '../../domain/status.js';
import type { Actor } from '../../domain/permissions.js';
import type { ProjectAccess } from '../projects/project-access.js';
import { entry, type AuditLog } from '../audit/audit-log.js';
import type { Run, RunsRepository } from '../../store/runs-repository.js';
import type { RunQueueRepository } from '../../store/run-queue-repository.js';
import type { EventBus } from '../../events/event-bus.js';
import type { Cancellations } from './cancellation.js';
import { nowIso } from '../../store/time.js';

export interface CancelDeps {
  runs: RunsRepository;
  queueRepo: RunQueueRepository;
  events: EventBus;
  cancellations: Cancellations;
  access: ProjectAccess;
  /** Every cancel is audited, with the cancel request in one transaction. */
  audit?: AuditLog;
}

export async function cancelRun(deps: CancelDeps, actor: Actor, runId: number): Promise<Run> {
  const run = await deps.runs.findById(runId);
  if (!run) throw notFound('Run');
  await deps.access.require(actor, run.project_id, 'run', { what: 'Run', denied: 'Your role in this project does not allow cancelling runs' });
  if (isFinalRunStatus(run.status)) throw conflict(`The run already finished (${run.status})`);
  await cancelUnfinishedRun(deps, run, { actor, reason: null });
  return (await deps.runs.findById(runId))!;
}

/**
 * The one way a run is cancelled, whoever asks (a user, or auto-cancel for the webhook with
 * `actor` null): the request is written (with its audit event) and `reason` kept as the
 * cancelled run's reason; a queued run ends here, a running one is aborted by the process that
 * runs it. A run that finished meanwhile keeps its status.
 */
export async function cancelUnfinishedRun(
  deps: CancelDeps,
  run: Pick<Run, 'id' | 'status' | 'number' | 'project_id' | 'pipeline'>,
  { actor, reason }: { actor: Actor | null; reason: string | null },
): Promise<void> {
  const at = nowIso();
  const target = { type: 'run', id: run.id, name: `${run.pipeline.name} #${run.number}` };
  if (deps.audit)
    await deps.audit.change(async (tx, record) => {
      await deps.runs.in(tx).requestCancel(run.id, at, reason);
      const after = reason ? `cancel requested: ${reason}` : 'cancel requested';
      await record(entry(actor, 'run.cancel', target, { status: { before: run.status, after } }, run.project_id));
    });
  else await deps.runs.requestCancel(run.id, at, reason);

  // Waiting at an environment's gate (it has no job): it ends here, unless its gate released it
  // meanwhile (the finish is guarded by `waiting`), then it is cancelled as a queued run.
  if (run.status === 'waiting' && (await deps.runs.finish(run.id, 'cancelled', at, 'cancelled while waiting for approval', ['waiting']))) {
    await deps.runs.settleSteps(run.id, 'unfinished', 'cancelled', at);
    deps.events.publish({ type: 'run_status', runId: run.id, pipelineId: run.pipeline.id, status: 'cancelled', progress: 100, currentStep: null, at });
    return;
  }
  // Not yet claimed by a worker: taking the job out of the queue makes settling it ours alone.
  if (run.status !== 'running' && (await deps.queueRepo.removeIfQueued(run.id))) {
    await deps.runs.settleSteps(run.id, 'unfinished', 'cancelled', at);
    if (await deps.runs.finish(run.id, 'cancelled', at, 'cancelled before it started')) {
      deps.events.publish({ type: 'run_status', runId: run.id, pipelineId: run.pipeline.id, status: 'cancelled', progress: 100, currentStep: null, at });
    }
  } else {
    deps.cancellations.request(run.id);
  }
}
