/**
 * Auto-cancel (`auto_cancel: true` on a pipeline): a new push to a branch, or a new commit on a
 * pull request, cancels that pipeline's older queued or running runs for the same branch or pull
 * request, as GitLab's "auto-cancel redundant pipelines" and Woodpecker's cancel-previous do.
 * Each goes through the one cancellation path (cancel-run.ts) with the reason
 * "superseded by run #N", which its page, API body and commit status show. Tags never supersede.
 */
import type { TriggerEvent } from '../../integrations/trigger-event.js';
import type { RunTrigger, RunsRepository, UnfinishedRun } from '../../store/runs-repository.js';

export type CancelSuperseded = (run: UnfinishedRun, reason: string) => Promise<void>;

export const supersededReason = (number: number) => `superseded by run #${number}`;

/** Whether an older run's trigger is for the same branch push or the same pull request as the event. */
export function sameChangeStream(older: RunTrigger, event: TriggerEvent): boolean {
  if (older.provider !== event.provider) return false;
  if (event.kind === 'pull_request') return event.pullRequest !== undefined && older.pull_request?.number === event.pullRequest.number;
  if (event.kind === 'push') return older.pull_request === undefined && older.ref === event.ref;
  return false;
}

export async function supersedeOlderRuns(
  deps: { runs: RunsRepository; cancelSuperseded: CancelSuperseded },
  newRun: { id: number; number: number; pipelineId: number },
  event: TriggerEvent,
): Promise<number[]> {
  if (event.kind === 'tag') return [];
  const older = (await deps.runs.unfinishedWebhookRuns(newRun.pipelineId, newRun.id)).filter((run) => sameChangeStream(run.trigger, event));
  for (const run of older) await deps.cancelSuperseded(run, supersededReason(newRun.number));
  return older.map((r) => r.id);
}
