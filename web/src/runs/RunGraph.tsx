/**
 * The run's steps as a graph (what waits on what, matrix cells), live: statuses come from the same
 * run state the timeline uses, which the WebSocket keeps current. A node opens its step's log.
 */
import { useState } from 'react';
import type { LeftOutStep, RunStep } from '../api/types';
import { LazyStepGraph } from '../graph/LazyStepGraph';

const OPEN_KEY = 'ansflow.run-graph';

function loadOpen(): boolean {
  try {
    return localStorage.getItem(OPEN_KEY) !== 'closed';
  } catch {
    return true;
  }
}

export function RunGraph({ steps, leftOut, onSelect }: { steps: RunStep[]; leftOut?: LeftOutStep[]; onSelect: (stepId: number) => void }) {
  const [open, setOpen] = useState(loadOpen);
  if (steps.length === 0) return null;
  return (
    <details
      className="card run-graph"
      open={open}
      onToggle={(e) => {
        const next = e.currentTarget.open;
        setOpen(next);
        try {
          localStorage.setItem(OPEN_KEY, next ? 'open' : 'closed');
        } catch {
          // private mode: the choice lasts for this page only
        }
      }}
      data-testid="run-graph-card"
    >
      <summary className="card-head">
        <h2>Graph</h2>
        <span className="faint">what waits on what{leftOut && leftOut.length > 0 ? `; dashed: left out by when` : ''}</span>
      </summary>
      {open && (
        <div className="run-graph-body">
          <LazyStepGraph
            steps={steps}
            {...(leftOut && leftOut.length > 0 ? { leftOut } : {})}
            label="Steps of this run and what each waits on"
            onSelect={(node) => node.id !== undefined && onSelect(node.id)}
            testId="run-graph"
          />
        </div>
      )}
    </details>
  );
}
