/**
 * What a webhook delivery means to the platform, independent of the provider. Normalisers
 * (github/normalize.ts, gitlab/normalize.ts) turn a verified delivery into exactly one of:
 *   - a TriggerEvent: something pipelines may run for;
 *   - `{ ping: true }`: the provider checking the hook (answer 200, run nothing);
 *   - `{ ignored: reason }`: a valid delivery that triggers nothing (deleted branch, closed PR,
 *     unknown event), or a malformed one (`malformed: true`: wrong types, header and body
 *     disagreeing, refs that are not safe as branch names). Either way nothing runs.
 * Normalisers never throw on payload content: a webhook body is untrusted input.
 */
import type { TriggerEventKind } from '../domain/pipeline.js';

export interface TriggerEvent {
  provider: 'github' | 'gitlab';
  kind: TriggerEventKind;
  /** Every clone/web/ssh URL of the repository the hook belongs to, for matching pipelines. */
  repositoryUrls: string[];
  /** push: the branch; tag: the tag name; pull_request: the head (source) branch. */
  branch: string;
  /**
   * push/tag: the full ref as delivered (`refs/heads/x`, `refs/tags/v1`). Pull requests: the
   * provider's ref for the head (`refs/pull/N/head`, `refs/merge-requests/N/head`), which can be
   * fetched from the target repository even when the head lives in a fork.
   */
  ref: string;
  /** The commit to check out: lowercase hex, 40 (SHA-1) or 64 (SHA-256) characters. */
  commit: string;
  author: string | null;
  /** The provider's event name as sent in the header (`push`, `Merge Request Hook`, ...). */
  event: string;
  /** The pull/merge request action (`opened`, `update`, ...); null for pushes. */
  action: string | null;
  title?: string;
  /**
   * The head commit's whole message, for `[skip ci]` (GitHub pull requests carry none: their
   * title stands in, as on Woodpecker).
   */
  message?: string;
  /** Pushes only: the commit the branch pointed at before (absent for a new branch). */
  before?: string;
  /** Pull/merge requests only: the request number (GitHub `number`, GitLab `iid`) and target branch. */
  pullRequest?: { number: number; targetBranch: string };
  /**
   * Pull/merge requests only: true when the head lives in another repository (a fork), or the
   * delivery does not show that it is the same one. Anyone can open such a request with any code,
   * so its runs get no secrets unless the pipeline opts in.
   */
  fromFork?: boolean;
}

export interface IgnoredDelivery {
  ignored: string;
  /** True when the body was not a well-formed delivery of the announced event. */
  malformed: boolean;
}

export interface PingDelivery {
  ping: true;
}

export type NormalizeResult = TriggerEvent | IgnoredDelivery | PingDelivery;

export const ignored = (reason: string): IgnoredDelivery => ({ ignored: reason, malformed: false });
export const malformed = (reason: string): IgnoredDelivery => ({ ignored: reason, malformed: true });

export const isIgnored = (r: NormalizeResult): r is IgnoredDelivery => 'ignored' in r;
export const isPing = (r: NormalizeResult): r is PingDelivery => 'ping' in r;
export const isTrigger = (r: NormalizeResult): r is TriggerEvent => !isIgnored(r) && !isPing(r);
