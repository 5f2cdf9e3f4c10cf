/**
 * Cancelling: idempotent while the run is unfinished; a finished run is a 409. A queued run ends
 * here; a running one is aborted by the process that runs it (its AbortSignal), which settles it.
 */
import { conflict, notFound, permissionDenied } from '../../domain/errors.js';
import { isFinalRunStatus } from '../../domain/status.js';
import { canRunPipelines, type Actor } from '../../domain/roles.js';
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
}

export async function cancelRun(deps: CancelDeps, actor: Actor, runId: number): Promise<Run> {
  if (!canRunPipelines(actor)) throw permissionDenied('Viewers cannot cancel runs');
  const run = await deps.runs.findById(runId);
  if (!run) throw notFound('Run');
  if (isFinalRunStatus(run.status)) throw conflict(`The run already finished (${run.status})`);
  const at = nowIso();
  await deps.runs.requestCancel(runId, at);

  // Not yet claimed by a worker: taking the job out of the queue makes settling it ours alone.
  if (run.status === 'queued' && (await deps.queueRepo.removeIfQueued(runId))) {
    await deps.runs.settleSteps(runId, 'unfinished', 'cancelled', at);
    if (await deps.runs.finish(runId, 'cancelled', at, 'cancelled before it started')) {
      deps.events.publish({ type: 'run_status', runId, pipelineId: run.pipeline.id, status: 'cancelled', progress: 100, currentStep: null, at });
    }
  } else {
    deps.cancellations.request(runId);
  }
  return (await deps.runs.findById(runId))!;
}
