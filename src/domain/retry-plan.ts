/**
 * Retrying a run from a step: which steps of the original are reused (not run again; their results
 * and logs linked) and which run again. Works on the step graph (domain/step-graph.ts), so stages
 * and `needs` mean the same here as when the run ran.
 *
 * From a step: that step and everything downstream of it run again; every other step that
 * succeeded is reused. From "failed": each step that did not succeed (failed, timeout, cancelled,
 * skipped, never ran) runs again, with everything downstream of it. A step that is reused must have
 * succeeded, so a retry point whose upstream did not succeed is refused with the reason.
 *
 * Steps share one workspace, so the rerun starts from the snapshot taken when the last reused step
 * finished (`snapshotAfter`): it must hold the work of every reused step and nothing of a step that
 * runs again. With parallel steps that moment may not exist (a reused step finished after a rerun
 * step had started writing); the retry is then refused, saying which steps overlapped.
 */
import { effectiveNeeds, type GraphNode } from './step-graph.js';

export interface RetryStep extends GraphNode {
  status: string;
  started_at: string | null;
  finished_at: string | null;
}

export type RetryPlan = { ok: true; reuse: string[]; rerun: string[]; snapshotAfter: string | null } | { ok: false; reason: string };

export function planRetry(steps: readonly RetryStep[], from: 'failed' | string): RetryPlan {
  const needs = effectiveNeeds(steps);
  const names = steps.map((s) => s.name);
  const dependents = new Map<string, string[]>(names.map((n) => [n, []]));
  needs.forEach((list, i) => list.forEach((need) => dependents.get(need)?.push(names[i]!)));

  let starts: string[];
  if (from === 'failed') {
    starts = steps.filter((s) => s.status !== 'success').map((s) => s.name);
    if (starts.length === 0) return { ok: false, reason: 'Every step of this run succeeded: there is nothing to retry.' };
  } else {
    if (!names.includes(from)) return { ok: false, reason: `This run has no step "${from}".` };
    starts = [from];
  }

  const rerun = new Set<string>();
  const queue = [...starts];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (rerun.has(name)) continue;
    rerun.add(name);
    queue.push(...(dependents.get(name) ?? []));
  }
  const reused = steps.filter((s) => !rerun.has(s.name));
  const notSucceeded = reused.find((s) => s.status !== 'success');
  if (notSucceeded)
    return {
      ok: false,
      reason: `Step "${notSucceeded.name}" did not succeed (${notSucceeded.status}) and would not run again; retry from it, or from "failed".`,
    };
  const last = [...reused].sort((a, b) => ((a.finished_at ?? '') < (b.finished_at ?? '') ? -1 : 1)).at(-1);
  const firstRerun = steps
    .filter((s) => rerun.has(s.name) && s.started_at !== null)
    .sort((a, b) => (a.started_at! < b.started_at! ? -1 : 1))
    .at(0);
  if (last && firstRerun && last.finished_at! > firstRerun.started_at!)
    return {
      ok: false,
      reason: `Step "${last.name}" finished after "${firstRerun.name}" had started, so no workspace snapshot holds the one's work without the other's; retry from an earlier step, or run again.`,
    };
  return { ok: true, reuse: reused.map((s) => s.name), rerun: names.filter((n) => rerun.has(n)), snapshotAfter: last?.name ?? null };
}
