/**
 * Worker labels (`runs_on`): a job's labels are a set; a worker takes a job when the job's set is
 * a subset of the worker's. Sets travel as one canonical key — sorted, deduplicated, joined by
 * commas — stored in `run_queue.labels` and used in BullMQ queue names, so both must stay in sync.
 */
import { AppError } from './errors.js';

const LABEL = /^[A-Za-z0-9_.-]{1,64}$/;

/** The canonical key of a label set ('' for none). */
export function labelKey(labels: readonly string[] | undefined): string {
  const set = [...new Set(labels ?? [])].sort();
  for (const label of set) if (!LABEL.test(label)) throw new AppError('VALIDATION_ERROR', `Invalid label "${label}": letters, digits, '_', '.', '-' only`);
  return set.join(',');
}

export function parseLabelKey(key: string): string[] {
  return key === '' ? [] : key.split(',');
}

/** Whether a worker with `have` may take a job that needs `need` (both canonical keys). */
export function satisfies(have: string, need: string): boolean {
  if (need === '') return true;
  const own = new Set(parseLabelKey(have));
  return parseLabelKey(need).every((l) => own.has(l));
}

const MAX_SUBSET_LABELS = 10;

/**
 * Every label key a worker with these labels can take (all subsets), for an SQL `in (...)` filter;
 * null when there are too many labels to list (the caller filters in memory instead).
 */
export function satisfiedKeys(have: string): string[] | null {
  const labels = parseLabelKey(have);
  if (labels.length > MAX_SUBSET_LABELS) return null;
  const keys: string[] = [];
  for (let mask = 0; mask < 1 << labels.length; mask++) keys.push(labels.filter((_, i) => mask & (1 << i)).join(','));
  return keys;
}
