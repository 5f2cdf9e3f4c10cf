/**
 * The plan of a run: its steps as a graph. Each step waits for the steps it needs; which those are
 * comes from the domain's one rule (`effectiveNeeds`): the steps' own `needs` when any step names
 * them, otherwise today's stages (consecutive steps of one `parallel_group` run together and each
 * stage waits for the whole previous one).
 *
 * The API and the pipeline-file planner refuse unknown needs and cycles; the engine checks again
 * (a stored snapshot is data) and refuses a plan it could not finish, before any step starts.
 */
import type { RunSpec } from './ports.js';
import { effectiveNeeds } from '../domain/step-graph.js';

export type PlannedStep = RunSpec['steps'][number];

export interface PlannedNode {
  /** Position in the run's steps: definition order breaks every tie. */
  index: number;
  step: PlannedStep;
  /** Indexes of the steps this one waits for. */
  needs: number[];
  /** Whether another step may run at the same time as this one (its log lines get a prefix then). */
  parallel: boolean;
}

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

export function planGraph(steps: readonly PlannedStep[]): PlannedNode[] {
  const byName = new Map<string, number[]>();
  steps.forEach((s, i) => byName.set(s.name, [...(byName.get(s.name) ?? []), i]));
  const needs = effectiveNeeds(steps).map((names, i) =>
    [
      ...new Set(
        names.flatMap((name) => {
          const found = byName.get(name);
          if (!found) throw new PlanError(`step "${steps[i]!.name}" needs "${name}", which is not a step of this run`);
          return found;
        }),
      ),
    ].sort((a, b) => a - b),
  );
  const order = topologicalOrder(needs, steps);
  const parallel = mayOverlap(needs, order);
  return steps.map((step, index) => ({ index, step, needs: needs[index]!, parallel: parallel[index]! }));
}

/** Kahn's algorithm; a step left over sits on a cycle. */
function topologicalOrder(needs: number[][], steps: readonly PlannedStep[]): number[] {
  const waiting = needs.map((n) => n.length);
  const dependents = needs.map(() => [] as number[]);
  needs.forEach((list, i) => list.forEach((n) => dependents[n]!.push(i)));
  const order: number[] = waiting.flatMap((count, i) => (count === 0 ? [i] : []));
  // `order` doubles as the queue: steps are appended once ready and read in turn.
  for (let head = 0; head < order.length; head++) for (const d of dependents[order[head]!]!) if (--waiting[d]! === 0) order.push(d);
  if (order.length < steps.length) {
    const stuck = steps.filter((_, i) => waiting[i]! > 0).map((s) => `"${s.name}"`);
    throw new PlanError(`steps wait for each other, so none of them could start: ${stuck.join(', ')}`);
  }
  return order;
}

/**
 * A step may overlap another unless every other step is its ancestor or its descendant. Ancestor
 * sets are bitsets built in topological order, so a few thousand steps (a large matrix) stay cheap.
 */
function mayOverlap(needs: number[][], order: number[]): boolean[] {
  const n = needs.length;
  const words = Math.ceil(n / 32);
  // One buffer for every set: thousands of small typed arrays cost more in allocation than in use.
  const bits = new Uint32Array(n * words);
  for (const i of order) {
    const mine = i * words;
    for (const need of needs[i]!) {
      const theirs = need * words;
      for (let w = 0; w < words; w++) bits[mine + w] = bits[mine + w]! | bits[theirs + w]!;
      bits[mine + (need >>> 5)] = bits[mine + (need >>> 5)]! | (1 << (need & 31));
    }
  }
  const related = new Int32Array(n).fill(1); // itself
  for (let i = 0; i < n; i++) {
    for (let w = 0; w < words; w++) {
      for (let word = bits[i * words + w]!; word !== 0; word &= word - 1) {
        const j = w * 32 + (31 - Math.clz32(word & -word));
        related[i] = related[i]! + 1; // j is an ancestor of i …
        related[j] = related[j]! + 1; // … and i a descendant of j
      }
    }
  }
  return Array.from(related, (count) => count < n);
}
