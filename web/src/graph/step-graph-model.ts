/**
 * What waits on what: the nodes and edges of a run's steps (or of a linted plan), before layout.
 *
 * The server's meaning (src/domain/step-graph.ts): as soon as any step names `needs`, every step
 * waits on exactly the steps it names (none: it starts at once). Otherwise consecutive steps with the
 * same `parallel_group` form a stage, and a stage waits on the whole stage before it. Matrix cells (`build (NODE=22, OS=debian)`, the names the
 * planner gives them) are grouped under their step's name, and a need naming that step waits on
 * every cell.
 */
import type { StepConditions, StepStatus } from '../api/types';

export interface GraphStep {
  name: string;
  needs?: string[] | null;
  parallel_group?: string | null;
  status?: StepStatus;
  /** A run step's id (a plan's steps have none). */
  id?: number;
  /** A pipeline file step's `when`. */
  when?: StepConditions | null;
}

/** A pipeline file step its `when` left out of the run: drawn, dashed, with why. */
export interface LeftOutGraphStep {
  name: string;
  reason: string;
  needs: string[];
  when?: StepConditions | null;
}

export interface GraphNode {
  /** Unique among the nodes: the step's name. */
  key: string;
  name: string;
  /** What the node shows: the cell's values for a matrix cell, else the name. */
  label: string;
  /** The matrix group's key, for a matrix cell. */
  group: string | null;
  status?: StepStatus;
  id?: number;
  /** Its `when`, in words (`branch main · on pull_request`, `if failure`); null when it has none. */
  condition: string | null;
  /** Why `when` left it out of the run; null for a step of the run. */
  leftOut: string | null;
}

export interface GraphGroup {
  key: string;
  /** The matrix step's own name. */
  label: string;
  members: string[];
}

export interface GraphEdge {
  from: string;
  to: string;
  /** An edge to a step `when` left out (drawn dashed). */
  leftOut?: boolean;
}

export interface StepGraphModel {
  nodes: GraphNode[];
  edges: GraphEdge[];
  groups: GraphGroup[];
}

const MATRIX_CELL = /^(.+?) \(([^()=,]+=[^()]*)\)$/;

/** `build (NODE=22, OS=debian)` → base `build`, values `NODE=22, OS=debian`; null for a plain name. */
export function matrixCell(name: string): { base: string; values: string } | null {
  const m = MATRIX_CELL.exec(name);
  return m ? { base: m[1]!, values: m[2]! } : null;
}

/** Stages of consecutive steps that share a parallel group (a step without a group is a stage of its own). */
function stagesOf<T extends GraphStep>(steps: T[]): T[][] {
  const stages: T[][] = [];
  for (const step of steps) {
    const last = stages[stages.length - 1];
    if (step.parallel_group && last && last[0]!.parallel_group === step.parallel_group) last.push(step);
    else stages.push([step]);
  }
  return stages;
}

/** A `when` in words: `if failure · branch main, release/* · on pull_request · paths src/**`; null when empty. */
export function conditionText(when: StepConditions | null | undefined): string | null {
  if (!when) return null;
  const parts: string[] = [];
  if (when.status && when.status !== 'success') parts.push(`if ${when.status}`);
  if (when.branch?.length) parts.push(`branch ${when.branch.join(', ')}`);
  if (when.event?.length) parts.push(`on ${when.event.join(', ')}`);
  if (when.paths?.length) parts.push(`paths ${when.paths.join(', ')}`);
  if (when.paths_ignore?.length) parts.push(`not ${when.paths_ignore.join(', ')}`);
  return parts.length > 0 ? parts.join(' · ') : null;
}

export function buildStepGraph(steps: GraphStep[], leftOut: LeftOutGraphStep[] = []): StepGraphModel {
  // Names are unique in a valid plan; a duplicate (an old run, an invalid file) still gets a node of its own.
  const seen = new Map<string, number>();
  const keyed = steps.map((step) => {
    const n = seen.get(step.name) ?? 0;
    seen.set(step.name, n + 1);
    return { step, key: n === 0 ? step.name : `${step.name}#${n + 1}` };
  });

  const cells = new Map<string, string[]>();
  for (const { step, key } of keyed) {
    const cell = matrixCell(step.name);
    if (cell) cells.set(cell.base, [...(cells.get(cell.base) ?? []), key]);
  }
  const byName = new Map(keyed.map(({ step, key }) => [step.name, key]));
  const nodes: GraphNode[] = keyed.map(({ step, key }) => {
    const cell = matrixCell(step.name);
    return {
      key,
      name: step.name,
      label: cell ? cell.values : step.name,
      group: cell ? `matrix:${cell.base}` : null,
      ...(step.status ? { status: step.status } : {}),
      ...(step.id !== undefined ? { id: step.id } : {}),
      condition: conditionText(step.when),
      leftOut: null,
    };
  });
  const groups: GraphGroup[] = [...cells.entries()].map(([base, members]) => ({ key: `matrix:${base}`, label: base, members }));

  const edges: GraphEdge[] = [];
  const edgeKeys = new Set<string>();
  const addEdge = (from: string, to: string) => {
    const id = `${from}\u0000${to}`;
    if (from === to || edgeKeys.has(id)) return;
    edgeKeys.add(id);
    edges.push({ from, to });
  };
  const keyOf = new Map(keyed.map(({ step, key }) => [step, key]));
  const graphForm = steps.some((s) => Array.isArray(s.needs));
  let previousStage: string[] = [];
  for (const stage of stagesOf(keyed.map((k) => k.step))) {
    for (const step of stage) {
      const to = keyOf.get(step)!;
      if (graphForm) {
        for (const need of step.needs ?? []) {
          // a need names a step, or a matrix step (then every cell); an unknown name is lint's to report
          const from = byName.get(need);
          if (from !== undefined) addEdge(from, to);
          else for (const cell of cells.get(need) ?? []) addEdge(cell, to);
        }
      } else {
        for (const from of previousStage) addEdge(from, to);
      }
    }
    previousStage = stage.map((s) => keyOf.get(s)!);
  }

  // Steps `when` left out: outside the run's order, dashed, tied to what they would have waited for.
  const leftOutKey = (name: string) => `left-out:${name}`;
  const leftOutNames = new Set(leftOut.map((s) => s.name));
  for (const step of leftOut) {
    nodes.push({ key: leftOutKey(step.name), name: step.name, label: step.name, group: null, condition: conditionText(step.when), leftOut: step.reason });
    for (const need of step.needs) {
      const from = byName.get(need) ?? (leftOutNames.has(need) ? leftOutKey(need) : undefined);
      const froms = from !== undefined ? [from] : (cells.get(need) ?? []);
      for (const f of froms) {
        const id = `${f}\u0000${leftOutKey(step.name)}`;
        if (!edgeKeys.has(id)) {
          edgeKeys.add(id);
          edges.push({ from: f, to: leftOutKey(step.name), leftOut: true });
        }
      }
    }
  }
  return { nodes, edges, groups };
}

/** A key for the graph's shape only (names, edges), so a status change does not lay it out again. */
export function graphShapeKey(model: StepGraphModel): string {
  return JSON.stringify([model.nodes.map((n) => [n.key, n.group, n.condition, n.leftOut]), model.edges.map((e) => [e.from, e.to])]);
}
