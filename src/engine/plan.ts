/**
 * The plan of a run: ordered stages. Consecutive steps with the same `parallel_group` form one
 * stage and run at the same time; every other step is a stage of its own. Stages run in order.
 */
import type { RunSpec } from './ports.js';

export type PlannedStep = RunSpec['steps'][number];

export interface Stage {
  /** The parallel group's name, or null for a single sequential step. */
  group: string | null;
  steps: PlannedStep[];
}

export function planStages(steps: readonly PlannedStep[]): Stage[] {
  const stages: Stage[] = [];
  for (const step of steps) {
    const group = step.parallel_group ?? null;
    const last = stages[stages.length - 1];
    if (group !== null && last && last.group === group) last.steps.push(step);
    else stages.push({ group, steps: [step] });
  }
  return stages;
}
