/**
 * Runs a plan's steps as a graph: a step starts as soon as every step it needs has ended, up to
 * `maxParallel` at a time (definition order decides who goes first), and whether it runs then is
 * its gate's call (`stepGate`):
 *
 *   when.status  success (default)  runs when each need succeeded (or failed with continue_on_error)
 *                                   and nothing before it failed (a `failure` or `always` step in
 *                                   between does not make a failure good: a deploy after a cleanup
 *                                   that ran because the build failed stays skipped)
 *                failure            runs when a step before it (a need, or a need's need …) failed
 *                always             runs whatever happened before it
 *   otherwise the step ends `skipped`, which its own dependents see as not succeeded.
 *
 * Steps already running always finish: a failure elsewhere never kills them (their results are
 * useful, and a second failure would be hidden). Two things stop new starts altogether:
 *   the run's signal  → running steps end `cancelled` through it; steps not started are `cancelled`;
 *   a platform fault  → running steps finish; steps not started are `skipped`; the run is `error`.
 * scheduleSteps never rejects for a step; it rejects only when the reporter (`settle`) does.
 */
import type { FinalStepStatus } from '../domain/status.js';
import { coerceError } from '../domain/errors.js';
import type { PlannedNode, PlannedStep } from './plan.js';
import type { StepOutcome } from './run-step.js';

export interface ScheduleInput {
  nodes: readonly PlannedNode[];
  maxParallel: number;
  signal: AbortSignal;
  /** Runs one step to its end; a rejection counts as a platform fault. */
  run(node: PlannedNode): Promise<StepOutcome>;
  /** Reports steps that will never run. */
  settle(nodes: readonly PlannedNode[], status: 'skipped' | 'cancelled'): Promise<void>;
}

export interface ScheduleResult {
  /** By node index; undefined for a step that never ran (skipped or cancelled before starting). */
  outcomes: Array<StepOutcome | undefined>;
  fault?: string;
}

/** How a finished or skipped step looks to the steps that need it. */
export interface NeedResult {
  status: FinalStepStatus;
  /** It failed, but continue_on_error lets the steps after it go on. */
  forgiven: boolean;
}

/** Whether a step whose needs have all ended runs. `failedBefore`: a step before it failed unforgiven. */
export function stepGate(step: PlannedStep, needs: readonly NeedResult[], failedBefore: boolean): 'run' | 'skip' {
  switch (step.when?.status ?? 'success') {
    case 'always':
      return 'run';
    case 'failure':
      return failedBefore ? 'run' : 'skip';
    case 'success':
      return !failedBefore && needs.every((n) => n.status === 'success' || n.forgiven) ? 'run' : 'skip';
  }
}

/** A step's own failure that the steps after it see (not forgiven by continue_on_error). */
export function failedUnforgiven(step: PlannedStep, status: FinalStepStatus): boolean {
  return (status === 'failed' || status === 'timeout') && step.continue_on_error !== true;
}

export async function scheduleSteps(input: ScheduleInput): Promise<ScheduleResult> {
  const { nodes, signal } = input;
  const maxParallel = Math.max(1, input.maxParallel);
  const results: Array<NeedResult | undefined> = nodes.map(() => undefined);
  const failedBefore: boolean[] = nodes.map(() => false);
  const outcomes: Array<StepOutcome | undefined> = nodes.map(() => undefined);
  const waitingFor = nodes.map((n) => n.needs.length);
  const dependents = nodes.map(() => [] as number[]);
  nodes.forEach((n) => n.needs.forEach((need) => dependents[need]!.push(n.index)));

  const started = new Set<number>();
  const running = new Map<number, Promise<number>>();
  const runnable: number[] = [];
  let fault: string | undefined;

  /** Records a step's end and returns the dependents that can now be decided. */
  const ended = (index: number, status: FinalStepStatus): number[] => {
    const step = nodes[index]!.step;
    results[index] = { status, forgiven: status !== 'cancelled' && status !== 'success' && step.continue_on_error === true };
    const failed = failedUnforgiven(step, status) || failedBefore[index]!;
    const decidable: number[] = [];
    for (const d of dependents[index]!) {
      if (failed) failedBefore[d] = true;
      if (--waitingFor[d]! === 0) decidable.push(d);
    }
    return decidable;
  };

  /** Gates each decidable step: runnable ones queue, skipped ones end at once and cascade. */
  const decide = async (decidable: number[]) => {
    const skipped: PlannedNode[] = [];
    const queue = [...decidable];
    while (queue.length > 0) {
      const node = nodes[queue.shift()!]!;
      const needs = node.needs.map((n) => results[n]!);
      if (stepGate(node.step, needs, failedBefore[node.index]!) === 'run') runnable.push(node.index);
      else {
        skipped.push(node);
        started.add(node.index);
        queue.push(...ended(node.index, 'skipped'));
      }
    }
    if (skipped.length > 0) await input.settle(skipped, 'skipped');
  };

  const start = (index: number) => {
    started.add(index);
    const node = nodes[index]!;
    const done = input
      .run(node)
      .catch((thrown: unknown): StepOutcome => {
        const message = `step "${node.step.name}" could not be run: ${coerceError(thrown).message}`;
        return { status: 'failed', exitCode: null, attempts: 0, message, fault: message };
      })
      .then((outcome) => {
        outcomes[index] = outcome;
        return index;
      });
    running.set(index, done);
  };

  const decideSafely = async (decidable: number[]) => {
    if (signal.aborted || fault !== undefined) return;
    try {
      await decide(decidable);
    } catch (thrown) {
      fault = `could not record skipped steps: ${coerceError(thrown).message}`;
    }
  };

  await decideSafely(nodes.flatMap((n) => (n.needs.length === 0 ? [n.index] : [])));
  for (;;) {
    if (!signal.aborted && fault === undefined) {
      runnable.sort((a, b) => a - b);
      while (running.size < maxParallel && runnable.length > 0) start(runnable.shift()!);
    }
    if (running.size === 0) break;
    const index = await Promise.race(running.values());
    running.delete(index);
    const outcome = outcomes[index]!;
    if (outcome.fault !== undefined) fault ??= outcome.fault;
    await decideSafely(ended(index, outcome.status));
  }

  const neverStarted = nodes.filter((n) => !started.has(n.index));
  if (neverStarted.length > 0) await input.settle(neverStarted, signal.aborted ? 'cancelled' : 'skipped');
  return { outcomes, ...(fault !== undefined && { fault }) };
}
