/**
 * Decides the plan-time part of `when` (branch, event, paths) for one event. `status` is left to
 * the run. Each condition given must hold; a list inside a condition holds when any item does.
 */
import { branchMatches } from '../branch-match.js';
import { pathMatches } from './path-glob.js';
import type { PlanContext } from './types.js';
import type { FileWhen } from './schema.js';

export const NO_MATCHING_CHANGES = 'skipped: no matching changes';

const list = <T>(value: T | T[] | undefined): T[] | undefined => (value === undefined ? undefined : Array.isArray(value) ? value : [value]);

/** null when the conditions hold for this event, else why not (`skipped: …`, as the forge shows it). */
export function whyExcluded(when: FileWhen | undefined, context: PlanContext): string | null {
  if (!when) return null;
  const branches = list(when.branch);
  if (branches && !branches.some((b) => branchMatches(b, context.branch))) return `skipped: branch "${context.branch}" is not in when.branch`;
  const events = list(when.event);
  if (events && !events.includes(context.event)) return `skipped: event "${context.event}" is not in when.event`;
  if (!changesMatch(when, context.changedFiles)) return NO_MATCHING_CHANGES;
  return null;
}

/**
 * Unknown changes (a manual run, a tag, a forge that did not list them) satisfy any path filter:
 * running too much is better than skipping silently. Known changes count when they match
 * `paths` (if given) and not `paths_ignore`; at least one must count.
 */
function changesMatch(when: FileWhen, changed: readonly string[] | null | undefined): boolean {
  const paths = list(when.paths);
  const ignored = list(when.paths_ignore);
  if (!paths && !ignored) return true;
  if (changed === null || changed === undefined) return true;
  return changed.some((file) => (!paths || paths.some((p) => pathMatches(p, file))) && !(ignored ?? []).some((p) => pathMatches(p, file)));
}
