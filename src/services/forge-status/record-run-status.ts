/**
 * Writes the commit status of a run's current state into the outbox: for runs started by a
 * GitHub or GitLab delivery (the delivered commit, the pipeline's repository), with the context
 * `ansflow/<pipeline name>` and a link to the run's page. Read from the database, not from the
 * event that woke it, so a late or repeated event writes nothing wrong (the unique (run, rank)
 * index keeps the first row of a rank).
 */
import { forgeStateOf, isForge, statusContext } from '../../domain/commit-status.js';
import { commitStatusTarget, type ForgeApiSettings } from '../../integrations/forge/commit-status-target.js';
import type { CommitStatusesRepository, RunForStatus } from '../../store/commit-statuses-repository.js';

export interface ForgeSettings extends ForgeApiSettings {
  githubToken: string | null;
  gitlabToken: string | null;
  /** Where users open AnsFlow (ANSFLOW_PUBLIC_URL, else the API's own address): run links start here. */
  publicUrl: string;
}

/**
 * 'never' for a run no forge started (a manual, scheduled or CLI run, a plain webhook's): none of
 * its states will ever have a commit status, whatever comes later (its trigger does not change).
 */
export async function recordRunStatus(
  deps: { statuses: CommitStatusesRepository; settings: ForgeSettings },
  runId: number,
  at: string,
): Promise<'never' | undefined> {
  const run = await deps.statuses.runForStatus(runId);
  if (run && (run.trigger.type !== 'webhook' || !isForge(run.trigger.provider))) return 'never';
  if (!run || run.trigger.type !== 'webhook' || !isForge(run.trigger.provider) || run.commit === null) return;
  const forge = run.trigger.provider;
  const state = forgeStateOf(forge, run.status, { reason: run.cancel_reason ?? run.error_reason, skipped: isSkippedByWhen(run) });
  const target = commitStatusTarget(forge, run.repository_url, deps.settings);
  await deps.statuses.record({
    runId: run.id,
    rank: state.rank,
    provider: forge,
    apiUrl: 'problem' in target ? '' : target.apiUrl,
    repository: 'problem' in target ? '' : target.repository,
    sha: run.commit,
    context: statusContext(run.pipeline_name),
    state: state.state,
    description: state.description,
    targetUrl: runPageUrl(deps.settings.publicUrl, run.id),
    at,
    ...('problem' in target ? { failed: `not sent: ${target.problem}` } : {}),
  });
}

export const runPageUrl = (publicUrl: string, runId: number) => `${publicUrl.replace(/\/+$/, '')}/runs/${runId}`;

/**
 * Whether the run was skipped by its pipeline file's file-level `when`: the worker's
 * plan-from-file step (services/runs/plan-from-file.ts, run-worker.ts) settles such a run
 * `success` with a reason starting `skipped:` (domain/pipeline-file/when.ts). This is the one
 * place commit statuses read that convention; if it changes there, change it here. Reported as
 * `success` "skipped: no matching changes" so required checks are not left pending.
 */
export function isSkippedByWhen(run: Pick<RunForStatus, 'status' | 'error_reason'>): boolean {
  return run.status === 'success' && run.error_reason !== null && run.error_reason.startsWith(SKIPPED_BY_WHEN_PREFIX);
}

/** The start of the reason a run skipped by its file's `when` carries. */
export const SKIPPED_BY_WHEN_PREFIX = 'skipped:';
