/**
 * After a crash (kill -9, power loss) of the embedded server: runs that were claimed when it died
 * are settled. A run that never started a step is queued again; one that did ends as `error` with
 * the reason, since its steps' side effects cannot be known. Logs written before stay readable.
 */
import type { RunsRepository } from '../../store/runs-repository.js';
import type { RunQueueRepository } from '../../store/run-queue-repository.js';
import type { EventBus } from '../../events/event-bus.js';
import { nowIso } from '../../store/time.js';

export const CRASH_REASON = 'the server stopped while this run was in progress';

export async function recoverInterruptedRuns(deps: {
  runs: RunsRepository;
  queue: RunQueueRepository;
  events: EventBus;
}): Promise<{ requeued: number[]; failed: number[] }> {
  const requeued: number[] = [];
  const failed: number[] = [];
  const claimed = await deps.queue.claimed();
  const orphans = await deps.runs.runningWithoutJob();
  for (const runId of [...claimed.map((j) => j.runId), ...orphans]) {
    const run = await deps.runs.findById(runId);
    if (!run) continue;
    const startedAStep = run.steps.some((s) => s.status !== 'pending');
    if (!startedAStep && !run.cancel_requested_at && claimed.some((j) => j.runId === runId)) {
      await deps.runs.backToQueued(runId);
      await deps.queue.requeue(runId);
      requeued.push(runId);
      continue;
    }
    const at = nowIso();
    await deps.runs.settleSteps(
      runId,
      run.steps.filter((s) => s.status === 'running').map((s) => s.id),
      'failed',
      at,
      CRASH_REASON,
    );
    await deps.runs.settleSteps(runId, 'unfinished', run.cancel_requested_at ? 'cancelled' : 'skipped', at);
    const status = run.cancel_requested_at ? 'cancelled' : 'error';
    if (await deps.runs.finish(runId, status, at, CRASH_REASON))
      deps.events.publish({ type: 'run_status', runId, pipelineId: run.pipeline.id, status, progress: 100, currentStep: null, at });
    failed.push(runId);
  }
  return { requeued, failed };
}
