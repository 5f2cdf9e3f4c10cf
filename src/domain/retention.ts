/**
 * Retention: how much history a pipeline keeps. `keep_runs` keeps the newest N runs, `keep_days`
 * the runs of the last D days; a run is removed when either says so (as Jenkins' buildDiscarder
 * does), never while it is unfinished, never when a user pinned it. null: no limit of that kind.
 * A pipeline's own setting wins over the global default, field by field.
 */
export interface RetentionPolicy {
  keep_runs: number | null;
  keep_days: number | null;
}

export const MAX_KEEP_RUNS = 10_000_000;
export const MAX_KEEP_DAYS = 36_500;

/** The policy in force: the pipeline's fields where set, the default's elsewhere. */
export function effectiveRetention(own: RetentionPolicy, defaults: RetentionPolicy): RetentionPolicy {
  return { keep_runs: own.keep_runs ?? defaults.keep_runs, keep_days: own.keep_days ?? defaults.keep_days };
}

/** Whether the policy removes anything at all. */
export const limitsHistory = (p: RetentionPolicy) => p.keep_runs !== null || p.keep_days !== null;

/** The creation time before which runs expire under `keep_days` (null: no such limit). */
export function expiryCutoff(p: RetentionPolicy, now: number): string | null {
  return p.keep_days === null ? null : new Date(now - p.keep_days * 86_400_000).toISOString();
}
