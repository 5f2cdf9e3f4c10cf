/** What the Jenkins client returns: the parts of Jenkins' JSON the platform relies on. */

export const JENKINS_RESULTS = ['SUCCESS', 'UNSTABLE', 'FAILURE', 'NOT_BUILT', 'ABORTED'] as const;
export type JenkinsResult = (typeof JENKINS_RESULTS)[number];

export interface QueuedBuild {
  queueId: number;
  /** Absolute URL of the queue item, as Jenkins' Location header gave it. */
  queueUrl: string;
  /** True when Jenkins merged the request into an identical queued item (303). */
  merged: boolean;
}

export interface BuildRef {
  number: number;
  url: string;
}

/**
 * A queue item's life: waiting (quiet period) → blocked / buildable (waiting for an executor) →
 * left the queue, either started (a build exists) or cancelled (no build will ever exist).
 */
export type QueueItem =
  | { id: number; state: 'waiting' | 'blocked' | 'buildable'; why: string | null }
  | { id: number; state: 'started'; build: BuildRef }
  | { id: number; state: 'cancelled' };

/**
 * building → post-production → finished. In post-production (`building: false`,
 * `inProgress: true`) the result is set but may still change and the log is still growing, so
 * only `finished` is final.
 */
export type BuildPhase = 'building' | 'post-production' | 'finished';

export interface BuildInfo {
  number: number;
  url: string;
  phase: BuildPhase;
  building: boolean;
  inProgress: boolean;
  result: JenkinsResult | null;
  durationMs: number | null;
}

export interface ConsoleChunk {
  /** The bytes after `start` (a byte offset; may end inside a UTF-8 sequence). */
  data: Buffer;
  /** `data` decoded on its own; use a streaming TextDecoder over `data` when following a log. */
  text: string;
  /** X-Text-Size: the offset to ask for next. */
  nextStart: number;
  /** X-More-Data: the log is still growing. */
  moreData: boolean;
}
