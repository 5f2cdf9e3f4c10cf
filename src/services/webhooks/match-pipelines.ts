/**
 * Which pipelines a trigger event starts: active, same repository (host and path compared by
 * repositoryKey: scheme, credentials, host case and `.git` ignored), branch setting matching the
 * event's branch or tag — for a pull request its TARGET branch, as GitHub Actions
 * (`on.pull_request.branches`), GitLab and Woodpecker filter them — and `trigger_events` including
 * the event's kind. When nothing matches,
 * the reason says which condition failed, so a user can see why a push did not build.
 */
import { repositoryKey } from '../../domain/git-url.js';
import { branchMatches } from '../../integrations/branch-match.js';
import type { TriggerEvent } from '../../integrations/trigger-event.js';
import type { WebhookCandidate } from '../../store/pipelines-repository.js';

export interface MatchResult<P extends WebhookCandidate> {
  matched: P[];
  /** Why nothing matched (null when something did). */
  reason: string | null;
  /** The active pipelines of the event's repository, matched or not: whose members may see the delivery. */
  sameRepository: P[];
}

export function matchPipelines<P extends WebhookCandidate>(activePipelines: P[], event: TriggerEvent): MatchResult<P> {
  const keys = new Set(event.repositoryUrls.map(repositoryKey).filter((k): k is string => k !== null));
  const sameRepo = activePipelines.filter((p) => p.status === 'active' && p.repository_url !== null && keys.has(repositoryKey(p.repository_url) ?? ''));
  const shownRepo = [...keys][0] ?? 'an unknown repository';
  if (sameRepo.length === 0) return { matched: [], reason: `no active pipeline uses the repository ${shownRepo}`, sameRepository: [] };
  const branch = matchedBranch(event);
  const onBranch = sameRepo.filter((p) => branchMatches(p.branch, branch));
  const what = event.kind === 'tag' ? 'tag' : event.kind === 'pull_request' ? 'pull request target branch' : 'branch';
  if (onBranch.length === 0)
    return {
      matched: [],
      reason:
        event.kind === 'pull_request' && branch === ''
          ? `the pull request names no target branch, so no pipeline of ${shownRepo} matches it`
          : `no pipeline of ${shownRepo} matches the ${what} "${branch}" (${describe(sameRepo, (p) => p.branch)})`,
      sameRepository: sameRepo,
    };
  const matched = onBranch.filter((p) => p.trigger_events.includes(event.kind));
  if (matched.length === 0)
    return {
      matched: [],
      reason: `no pipeline of ${shownRepo} on "${branch}" triggers on ${event.kind} (${describe(onBranch, (p) => p.trigger_events.join('+') || 'none')})`,
      sameRepository: sameRepo,
    };
  return { matched, reason: null, sameRepository: sameRepo };
}

/** What a pipeline's `branch` is matched against: the branch or tag; a pull request's target branch ('' when unknown: matches nothing). */
export function matchedBranch(event: TriggerEvent): string {
  return event.kind === 'pull_request' ? (event.pullRequest?.targetBranch ?? '') : event.branch;
}

function describe<P extends WebhookCandidate>(pipelines: P[], what: (p: P) => string): string {
  const shown = pipelines.slice(0, 5).map((p) => `#${p.id} ${what(p)}`);
  return shown.join(', ') + (pipelines.length > 5 ? `, and ${pipelines.length - 5} more` : '');
}
