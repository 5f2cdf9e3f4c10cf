/**
 * Starts one run per matching pipeline for a trigger event. Each run records the provider, event,
 * delivery id, ref and author, and checks out the delivered commit. A pipeline that cannot run
 * (deactivated meanwhile, a branch the run API refuses) is skipped with its reason; the others
 * still run.
 */
import { AppError, coerceError } from '../../domain/errors.js';
import type { Actor } from '../../domain/permissions.js';
import type { TriggerEvent } from '../../integrations/trigger-event.js';
import type { PipelinesRepository } from '../../store/pipelines-repository.js';
import { triggerRun, type TriggerDeps } from '../runs/trigger-run.js';
import { matchPipelines } from './match-pipelines.js';
import { supersedeOlderRuns, type CancelSuperseded } from './supersede-older-runs.js';

export interface TriggerOutcome {
  runIds: number[];
  /** Why no run (or not every matched pipeline's run) was started; null when all started. */
  reason: string | null;
  /** The projects of the pipelines of the delivery's repository: their members may see the delivery. */
  projectIds: number[];
}

export type MatchingDeps = TriggerDeps & {
  pipelines: PipelinesRepository;
  /** Cancels an older run a pipeline with `auto_cancel` no longer needs (through cancel-run.ts). */
  cancelSuperseded: CancelSuperseded;
};

export async function triggerMatching(deps: MatchingDeps, actor: Actor | null, event: TriggerEvent, deliveryId: string): Promise<TriggerOutcome> {
  const { matched, reason, sameRepository } = matchPipelines(await deps.pipelines.webhookCandidates(), event);
  const projectIds = [...new Set(sameRepository.map((p) => p.project_id))];
  if (matched.length === 0) return { runIds: [], reason, projectIds };
  const runIds: number[] = [];
  const problems: string[] = [];
  for (const pipeline of matched) {
    try {
      const run = await triggerRun(deps, actor, {
        pipelineId: pipeline.id,
        branch: event.branch,
        commit: event.commit,
        trigger: {
          type: 'webhook',
          event: event.event,
          delivery_id: deliveryId,
          provider: event.provider,
          ref: event.ref,
          author: event.author,
          ...(event.kind === 'pull_request' && event.pullRequest
            ? { pull_request: { number: event.pullRequest.number, source_branch: event.branch, target_branch: event.pullRequest.targetBranch } }
            : {}),
          ...(event.before !== undefined && { before: event.before }),
          ...(actor ? { user: { id: actor.id, username: actor.username } } : {}),
        },
        fromFork: event.fromFork === true,
      });
      runIds.push(run.id);
      // After the new run exists, so the older ones never leave the branch without a run.
      if (pipeline.auto_cancel) await supersedeOlderRuns(deps, { id: run.id, number: run.number, pipelineId: pipeline.id }, event);
    } catch (thrown) {
      // Only refusals of this one pipeline are skipped; a platform fault fails the delivery.
      if (!(thrown instanceof AppError)) throw coerceError(thrown);
      // A pipeline the redelivering user may not read is not even named.
      if (actor && thrown.code === 'RESOURCE_NOT_FOUND') continue;
      problems.push(`pipeline #${pipeline.id} not run: ${thrown.message}`);
    }
  }
  return { runIds, reason: problems.length > 0 ? problems.join('; ') : null, projectIds };
}
