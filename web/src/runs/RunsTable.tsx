/** A table of runs: status, number, pipeline, trigger, branch/commit, start time, duration. */
import { Link } from 'react-router-dom';
import type { Run } from '../api/types';
import { RelativeTime } from '../components/RelativeTime';
import { StatusBadge } from '../components/StatusBadge';
import { formatDuration, shortCommit, elapsedMs } from '../lib/format';
import { useNow } from '../lib/use-now';
import { triggerText } from './trigger-text';

export function RunsTable({ runs, showPipeline = true }: { runs: Run[]; showPipeline?: boolean }) {
  const anyRunning = runs.some((r) => r.status === 'running');
  const now = useNow(1000, anyRunning);
  return (
    <div className="table-wrap">
      <table className="table" data-testid="runs-table">
        <thead>
          <tr>
            <th>Status</th>
            <th>Run</th>
            <th className="hide-sm">Trigger</th>
            <th className="hide-sm">Branch</th>
            <th>Started</th>
            <th>Duration</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.id} data-testid="run-row" data-run-id={run.id} data-status={run.status}>
              <td>
                <StatusBadge status={run.status} testId="run-row-status" />
              </td>
              <td>
                <Link to={`/runs/${run.id}`} className="cell-title">
                  #{run.number}
                  {showPipeline && run.pipeline ? ` · ${run.pipeline.name}` : ''}
                </Link>
                {run.status === 'running' && run.current_step && <div className="cell-sub truncate">{run.current_step.name}</div>}
              </td>
              <td className="hide-sm muted">{triggerText(run.trigger)}</td>
              <td className="hide-sm">
                {run.branch && <span className="chip mono">{run.branch}</span>} {run.commit && <code className="faint">{shortCommit(run.commit)}</code>}
              </td>
              <td className="muted">
                <RelativeTime iso={run.started_at ?? run.created_at} />
              </td>
              <td className="tabular muted nowrap">{formatDuration(run.duration_ms ?? elapsedMs(run.started_at, run.finished_at, now))}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
