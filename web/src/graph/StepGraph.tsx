/**
 * A run's steps (or a linted plan) as a graph: what waits on what, matrix cells boxed under their
 * step, each node coloured by its status. Laid out by dagre (step-graph-layout.ts); loaded on demand
 * through LazyStepGraph, so neither this nor dagre is in the first load.
 */
import { useMemo } from 'react';
import { StatusIcon, statusLabel, statusTone } from '../components/StatusIcon';
import { buildStepGraph, graphShapeKey, type GraphNode, type GraphStep, type LeftOutGraphStep } from './step-graph-model';
import { layoutStepGraph, secondLine, type PlacedEdge } from './step-graph-layout';
import '../styles/graph.css';

export interface StepGraphProps {
  steps: GraphStep[];
  /** Pipeline file steps `when` left out of the run: drawn dashed, with why. */
  leftOut?: LeftOutGraphStep[];
  /** Called with a node that has a run step id; without it nodes are not buttons. */
  onSelect?: (node: GraphNode) => void;
  label: string;
  testId?: string;
}

function edgePath(points: PlacedEdge['points']): string {
  if (points.length === 0) return '';
  const [first, ...rest] = points;
  // through dagre's bend points with rounded corners: a quadratic curve around each inner point
  let d = `M${first!.x},${first!.y}`;
  for (let i = 0; i < rest.length; i++) {
    const p = rest[i]!;
    const next = rest[i + 1];
    if (!next) d += ` L${p.x},${p.y}`;
    else d += ` Q${p.x},${p.y} ${(p.x + next.x) / 2},${(p.y + next.y) / 2}`;
  }
  return d;
}

/** A node's tooltip: status, and what a `when` means for it. */
function nodeTitle(node: GraphNode): string {
  if (node.leftOut) return `${node.name}: not in this run (${node.leftOut})`;
  const base = node.status ? `${node.name}: ${statusLabel(node.status)}` : node.name;
  const skippedByCondition = node.status === 'skipped' && node.condition?.startsWith('if ');
  if (skippedByCondition) return `${base}: its condition (${node.condition}) did not hold`;
  return node.condition ? `${base} (when: ${node.condition})` : base;
}

export default function StepGraph({ steps, leftOut, onSelect, label, testId = 'step-graph' }: StepGraphProps) {
  const model = useMemo(() => buildStepGraph(steps, leftOut), [steps, leftOut]);
  const shape = graphShapeKey(model);
  // laid out again only when names or edges change: a status update repaints, it does not move boxes
  // eslint-disable-next-line react-hooks/exhaustive-deps -- `shape` stands for the model's structure
  const layout = useMemo(() => layoutStepGraph(model), [shape]);
  const statusOf = new Map(model.nodes.map((n) => [n.key, n]));

  if (model.nodes.length === 0) return <p className="faint graph-empty">No steps.</p>;
  return (
    <div className="step-graph-scroll" data-testid={testId}>
      <div className="step-graph" style={{ width: layout.width, height: layout.height }} role="group" aria-label={label}>
        <svg className="step-graph-edges" width={layout.width} height={layout.height} aria-hidden="true">
          <defs>
            <marker id="step-graph-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M0,0 L8,4 L0,8 z" className="step-graph-arrow" />
            </marker>
          </defs>
          {layout.groups.map((g) => (
            <rect key={g.key} className="step-graph-group" x={g.x} y={g.y} width={g.width} height={g.height} rx={10} />
          ))}
          {layout.edges.map((e) => (
            <path
              key={`${e.from}\u0000${e.to}`}
              className={`step-graph-edge${e.leftOut ? ' is-left-out' : ''}`}
              d={edgePath(e.points)}
              markerEnd="url(#step-graph-arrow)"
              data-testid="graph-edge"
              data-from={e.from}
              data-to={e.to}
            />
          ))}
        </svg>
        {layout.groups.map((g) => (
          <div
            key={g.key}
            className="step-graph-group-label truncate"
            style={{ left: g.x + 10, top: g.y - 9, maxWidth: g.width - 20 }}
            data-testid="graph-group"
            data-group={g.label}
          >
            {g.label} <span className="faint">· matrix</span>
          </div>
        ))}
        {layout.nodes.map((placed) => {
          const node = statusOf.get(placed.key) ?? placed;
          const tone = node.leftOut ? 'left-out' : node.status ? statusTone(node.status) : 'plan';
          const clickable = onSelect !== undefined && node.id !== undefined;
          const second = secondLine(node);
          const content = (
            <>
              {node.status ? <StatusIcon status={node.status} /> : <span className="step-graph-dot" aria-hidden="true" />}
              <span className="step-graph-text">
                <span className="truncate">{node.label}</span>
                {second && (
                  <span className="step-graph-condition truncate" data-testid={node.leftOut ? 'graph-left-out-reason' : 'graph-condition'}>
                    {second}
                  </span>
                )}
              </span>
            </>
          );
          const common = {
            className: `step-graph-node tone-${tone}${node.status === 'running' ? ' is-running' : ''}${node.leftOut ? ' is-left-out' : ''}`,
            style: { left: placed.x, top: placed.y, width: placed.width, height: placed.height },
            title: nodeTitle(node),
            'data-testid': 'graph-node',
            'data-step-name': node.name,
            'data-status': node.leftOut ? 'left-out' : (node.status ?? ''),
            ...(node.condition ? { 'data-condition': node.condition } : {}),
            ...(node.id !== undefined ? { 'data-step-id': node.id } : {}),
          };
          return clickable ? (
            <button
              key={placed.key}
              type="button"
              {...common}
              onClick={() => onSelect(node)}
              aria-label={`${node.name}, ${statusLabel(node.status)}: show its log`}
            >
              {content}
            </button>
          ) : (
            <div key={placed.key} {...common}>
              {content}
            </div>
          );
        })}
      </div>
    </div>
  );
}
