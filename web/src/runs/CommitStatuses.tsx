/**
 * What a run reports on its GitHub/GitLab commit: each status (queued, running, final), whether
 * it was delivered, and why not (the forge was down, rate-limited, refused the token…).
 */
import type { CommitStatus } from '../api/types';
import { RelativeTime } from '../components/RelativeTime';

const OUTCOME: Record<CommitStatus['outcome'], string> = {
  delivered: 'delivered',
  pending: 'not delivered yet',
  superseded: 'not sent (a later state went instead)',
  failed: 'not delivered',
};

export function CommitStatuses({ statuses }: { statuses: CommitStatus[] }) {
  if (statuses.length === 0) return null;
  const first = statuses[0]!;
  return (
    <section className="card commit-statuses" aria-labelledby="commit-statuses-title" data-testid="run-commit-statuses" style={{ marginBottom: 12 }}>
      <div style={{ padding: '12px 16px 4px' }}>
        <h2 id="commit-statuses-title" style={{ margin: 0, fontSize: 16 }}>
          Commit status on {first.forge === 'github' ? 'GitHub' : 'GitLab'}: <code>{first.context}</code>
        </h2>
        <p className="muted">
          {first.repository} @ <code>{first.sha.slice(0, 12)}</code>
        </p>
      </div>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">State</th>
            <th scope="col">Description</th>
            <th scope="col">Delivery</th>
            <th scope="col">Attempts</th>
          </tr>
        </thead>
        <tbody>
          {statuses.map((s) => (
            <tr key={`${s.state}-${s.created_at}`} data-testid="commit-status-row" data-outcome={s.outcome}>
              <td>
                <code>{s.state}</code>
              </td>
              <td>{s.description}</td>
              <td>
                {OUTCOME[s.outcome]}
                {s.delivered_at && (
                  <>
                    {' '}
                    <RelativeTime iso={s.delivered_at} />
                  </>
                )}
                {s.outcome !== 'delivered' && s.last_error && (
                  <div className="muted" data-testid="commit-status-error">
                    {s.last_error}
                  </div>
                )}
                {s.outcome === 'pending' && s.next_attempt_at && (
                  <div className="muted">
                    next attempt <RelativeTime iso={s.next_attempt_at} />
                  </div>
                )}
              </td>
              <td>{s.attempts}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
