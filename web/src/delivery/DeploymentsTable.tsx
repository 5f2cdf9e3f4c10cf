/** An environment's deployments: which run deployed which commit when, triggered and approved by whom, and how it ended. */
import { Link } from 'react-router-dom';
import type { Deployment } from '../api/delivery';
import { RelativeTime } from '../components/RelativeTime';
import { StatusBadge } from '../components/StatusBadge';
import { shortCommit } from '../lib/format';

export function DeploymentsTable({ deployments, testId = 'deployments-table' }: { deployments: Deployment[]; testId?: string }) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid={testId}>
        <thead>
          <tr>
            <th>Run</th>
            <th>Status</th>
            <th>Branch / commit</th>
            <th>Triggered by</th>
            <th>Approved by</th>
            <th>When</th>
          </tr>
        </thead>
        <tbody>
          {deployments.map((d) => (
            <tr key={d.run.id} data-testid="deployment-row" data-run={d.run.id}>
              <td>
                <Link to={`/runs/${d.run.id}`}>
                  {d.run.pipeline.name} #{d.run.number}
                </Link>
              </td>
              <td>
                <StatusBadge status={d.run.status} testId="deployment-status" />
              </td>
              <td className="mono">
                {d.branch}
                {d.commit && <span className="faint"> @ {shortCommit(d.commit)}</span>}
              </td>
              <td>{d.triggered_by ?? <span className="faint">—</span>}</td>
              <td data-testid="deployment-approved-by">{d.approved_by.length > 0 ? d.approved_by.join(', ') : <span className="faint">—</span>}</td>
              <td className="muted">
                <RelativeTime iso={d.finished_at ?? d.started_at ?? d.created_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** "What is live now": the newest successful deployment, in one line. */
export function LiveDeployment({ live }: { live: Deployment | null }) {
  if (!live) return <span className="faint">nothing deployed yet</span>;
  return (
    <span data-testid="environment-live">
      <Link to={`/runs/${live.run.id}`}>
        {live.run.pipeline.name} #{live.run.number}
      </Link>{' '}
      <span className="mono">
        {live.branch}
        {live.commit && ` @ ${shortCommit(live.commit)}`}
      </span>{' '}
      <span className="muted">
        <RelativeTime iso={live.finished_at ?? live.created_at} />
      </span>
    </span>
  );
}
