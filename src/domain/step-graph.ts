/**
 * What waits for what among a pipeline's steps. Two ways to say it, one meaning:
 *   - stages (today's form): consecutive steps with the same `parallel_group` form a stage, every
 *     other step is a stage of its own, and each step waits for the whole previous stage;
 *   - a graph: as soon as any step names `needs`, every step waits for exactly the steps it names
 *     (a step without `needs` starts at once).
 * Mixing both in one pipeline would make `parallel_group` mean two things, so it is refused.
 */
import type { ErrorDetails } from './errors.js';

/** The part of a step the graph is made of (a stored step, or a step of a pipeline file). */
export interface GraphNode {
  name: string;
  needs?: readonly string[] | undefined;
  parallel_group?: string | undefined;
}

/** Where a node's fields are reported: `steps[3]` for a stored step, a file path for a file. */
export type NodePath = (index: number) => string;

export const usesNeeds = (nodes: readonly GraphNode[]): boolean => nodes.some((n) => n.needs !== undefined);

/**
 * The steps each step waits for, by name, in the order of the steps (stage form turned into needs).
 * Assumes the nodes passed `stepGraphProblems`.
 */
export function effectiveNeeds(nodes: readonly GraphNode[]): string[][] {
  if (usesNeeds(nodes)) return nodes.map((n) => [...new Set(n.needs ?? [])]);
  const out: string[][] = [];
  let previousStage: string[] = [];
  let stage: string[] = [];
  let stageGroup: string | undefined;
  nodes.forEach((node, i) => {
    const continues = i > 0 && node.parallel_group !== undefined && node.parallel_group === stageGroup;
    if (!continues) {
      if (i > 0) previousStage = stage;
      stage = [];
    }
    stage.push(node.name);
    stageGroup = node.parallel_group;
    out.push([...previousStage]);
  });
  return out;
}

/** One problem of a graph: on which node, which of its fields (`needs`, `needs[2]`, `parallel_group`). */
export interface GraphIssue {
  index: number;
  field: string;
  message: string;
  /** A need naming no step: where steps may be missing (an include not read), it is only a warning. */
  unknownNeed?: true;
}

/** Unknown or repeated needs, a step needing itself, cycles, `needs` mixed with `parallel_group`. */
export function stepGraphIssues(nodes: readonly GraphNode[]): GraphIssue[] {
  const issues: GraphIssue[] = [];
  if (!usesNeeds(nodes)) return issues;

  const indexByName = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (!indexByName.has(n.name)) indexByName.set(n.name, i);
  });
  nodes.forEach((node, i) => {
    if (node.parallel_group !== undefined)
      issues.push({
        index: i,
        field: 'parallel_group',
        message: 'A pipeline whose steps use "needs" cannot use "parallel_group"; say what each step waits for with "needs".',
      });
    const seen = new Set<string>();
    (node.needs ?? []).forEach((need, j) => {
      const field = `needs[${j}]`;
      if (need === node.name) issues.push({ index: i, field, message: 'A step cannot wait for itself.' });
      else if (!indexByName.has(need)) issues.push({ index: i, field, message: `There is no step named "${need}".`, unknownNeed: true });
      else if (seen.has(need)) issues.push({ index: i, field, message: `"${need}" is listed twice.` });
      seen.add(need);
    });
  });

  for (const cycle of findCycles(nodes, indexByName)) {
    const first = Math.min(...cycle);
    const names = [...cycle, cycle[0]!].map((i) => nodes[i]!.name).join(' → ');
    issues.push({ index: first, field: 'needs', message: `These steps wait for each other, so none of them could start: ${names}.` });
  }
  return issues;
}

/** stepGraphIssues keyed by field path, as the stored-pipeline validator reports them. */
export function stepGraphProblems(nodes: readonly GraphNode[], pathOf: NodePath): ErrorDetails {
  const details: ErrorDetails = {};
  for (const issue of stepGraphIssues(nodes)) (details[`${pathOf(issue.index)}.${issue.field}`] ??= []).push(issue.message);
  return details;
}

/** Each cycle once, as step indexes in waiting order (a needs b needs … needs a). Self-needs are reported elsewhere. */
function findCycles(nodes: readonly GraphNode[], indexByName: Map<string, number>): number[][] {
  const state = new Array<0 | 1 | 2>(nodes.length).fill(0); // 0 unvisited, 1 on the path, 2 done
  const path: number[] = [];
  const cycles: number[][] = [];
  // Iterative depth-first search: a deep chain of needs must not overflow the stack.
  for (let root = 0; root < nodes.length; root++) {
    if (state[root] !== 0) continue;
    const stack: { node: number; next: number }[] = [{ node: root, next: 0 }];
    state[root] = 1;
    path.push(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const needs = nodes[top.node]!.needs ?? [];
      if (top.next >= needs.length) {
        state[top.node] = 2;
        path.pop();
        stack.pop();
        continue;
      }
      const target = indexByName.get(needs[top.next++]!);
      if (target === undefined || target === top.node) continue;
      if (state[target] === 1) cycles.push(path.slice(path.indexOf(target)));
      else if (state[target] === 0) {
        state[target] = 1;
        path.push(target);
        stack.push({ node: target, next: 0 });
      }
    }
  }
  return cycles;
}
