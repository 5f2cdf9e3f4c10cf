/**
 * Places a step graph with dagre (layered, left to right: what runs first is on the left), matrix
 * cells inside a box of their step. Positions are top-left corners in SVG user units; edges are
 * dagre's polylines. Loaded on demand with the graph component (dagre is not in the first load).
 */
import dagre from '@dagrejs/dagre';
import type { GraphEdge, GraphNode, StepGraphModel } from './step-graph-model';

export const NODE_HEIGHT = 36;
/** A node with a second line (its `when`, or why it was left out). */
export const TALL_NODE_HEIGHT = 52;
const CHAR_WIDTH = 7.2; // 13px system-ui, on average; names longer than the cap are cut with an ellipsis
const MIN_WIDTH = 110;
const MAX_WIDTH = 240;
/** A node with a second line (11.5px) may be wider, so its condition or reason mostly fits. */
const MAX_WIDE = 320;
const SMALL_CHAR_WIDTH = 6.4;
const MARGIN = 12;

export interface PlacedNode extends GraphNode {
  x: number;
  y: number;
  width: number;
  height: number;
}
export interface PlacedGroup {
  key: string;
  label: string;
  x: number;
  y: number;
  width: number;
  height: number;
}
export interface PlacedEdge extends GraphEdge {
  points: Array<{ x: number; y: number }>;
}
export interface StepGraphLayout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  groups: PlacedGroup[];
  edges: PlacedEdge[];
}

/** A node's second line, as StepGraph shows it: its `when`, or why `when` left it out. */
export function secondLine(node: Pick<GraphNode, 'condition' | 'leftOut'>): string | null {
  if (node.leftOut) return `not run: ${node.leftOut.replace(/^skipped: /, '')}`;
  return node.condition ? `when: ${node.condition}` : null;
}

/** Room for the status icon and the label. */
export function nodeWidth(label: string): number {
  return Math.round(Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, 44 + label.length * CHAR_WIDTH)));
}

export function layoutStepGraph(model: StepGraphModel): StepGraphLayout {
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: false });
  g.setGraph({ rankdir: 'LR', nodesep: 20, ranksep: 44, edgesep: 8, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  for (const group of model.groups) {
    // dagre sizes a cluster to its members; its label is drawn on the top border, like a legend
    g.setNode(group.key, { width: 0, height: 0 });
  }
  for (const node of model.nodes) {
    const second = secondLine(node);
    const width = second ? Math.max(nodeWidth(node.label), Math.min(MAX_WIDE, 44 + second.length * SMALL_CHAR_WIDTH)) : nodeWidth(node.label);
    g.setNode(node.key, { width: Math.round(width), height: second ? TALL_NODE_HEIGHT : NODE_HEIGHT });
    if (node.group) g.setParent(node.key, node.group);
  }
  for (const edge of model.edges) g.setEdge(edge.from, edge.to);
  dagre.layout(g);

  const nodes: PlacedNode[] = model.nodes.map((node) => {
    const n = g.node(node.key);
    return { ...node, x: n.x! - n.width / 2, y: n.y! - n.height / 2, width: n.width, height: n.height };
  });
  const groups: PlacedGroup[] = model.groups.map((group) => {
    const n = g.node(group.key);
    return { key: group.key, label: group.label, x: n.x! - n.width / 2, y: n.y! - n.height / 2, width: n.width, height: n.height };
  });
  const edges: PlacedEdge[] = model.edges.map((edge) => ({ ...edge, points: g.edge(edge.from, edge.to)?.points ?? [] }));

  // the SVG's extent: dagre's, widened by a margin around every box (a group's legend sits on its border)
  const label = g.graph();
  let minX = 0;
  let minY = 0;
  let maxX = label.width ?? 0;
  let maxY = label.height ?? 0;
  for (const box of [...nodes, ...groups]) {
    minX = Math.min(minX, box.x - MARGIN);
    minY = Math.min(minY, box.y - MARGIN);
    maxX = Math.max(maxX, box.x + box.width + MARGIN);
    maxY = Math.max(maxY, box.y + box.height + MARGIN);
  }
  const shift = <T extends { x: number; y: number }>(p: T): T => ({ ...p, x: p.x - minX, y: p.y - minY });
  return {
    width: Math.ceil(maxX - minX),
    height: Math.ceil(maxY - minY),
    nodes: nodes.map(shift),
    groups: groups.map(shift),
    edges: edges.map((e) => ({ ...e, points: e.points.map(shift) })),
  };
}
