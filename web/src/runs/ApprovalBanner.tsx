/**
 * A run waiting at its environment's gate: who may approve, the decisions so far, and (for whoever's
 * decision would count) a comment with Approve and Reject. The gate is read again when the run's
 * status changes (another approver's decision arrives through the run's live feed).
 */
import { useEffect, useState } from 'react';
import { decideGate, getGate, type Gate } from '../api/delivery';
import { errorMessage } from '../api/api-error';
import type { Run } from '../api/types';
import { RelativeTime } from '../components/RelativeTime';
import { useToast } from '../components/Toasts';
import { useAsync } from '../lib/use-async';
import { shortCommit } from '../lib/format';

export function ApprovalBanner({ run }: { run: Pick<Run, 'id' | 'status' | 'environment' | 'approved_at'> }) {
  const toast = useToast();
  const gate = useAsync((signal) => getGate(run.id, { signal }), [run.id, run.status, run.approved_at]);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState<'approve' | 'reject' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const g = gate.data;
  // Other approvers' decisions do not change the run's status until the last one: read the gate now and then.
  const { reload } = gate;
  useEffect(() => {
    if (run.status !== 'waiting') return;
    const timer = setInterval(reload, 10_000);
    return () => clearInterval(timer);
  }, [run.status, reload]);
  if (run.status !== 'waiting' || !g || g.state === 'none') return null;

  const decide = async (decision: 'approve' | 'reject') => {
    setBusy(decision);
    setError(null);
    try {
      const after = await decideGate(run.id, decision, comment);
      gate.setData(() => after);
      setComment('');
      toast(decision === 'approve' ? 'Approved' : 'Rejected');
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(null);
    }
  };

  const where = g.environment?.name ?? run.environment?.name ?? 'its environment';
  return (
    <div className="banner banner-warning approval-banner" role="region" aria-label="Approval" data-testid="approval-banner" style={{ marginBottom: 12 }}>
      <div style={{ flex: 1, minWidth: 0 }}>
        <strong data-testid="approval-title">{headline(g, where)}</strong>
        <div className="muted" data-testid="approval-approvers">
          Who may approve: {g.approvers}
        </div>
        {g.decisions.length > 0 && (
          <ul className="approval-decisions" data-testid="approval-decisions">
            {g.decisions.map((d) => (
              <li key={`${d.user.id}-${d.created_at}`} data-testid="approval-decision">
                <strong>{d.user.username}</strong> {d.decision === 'approve' ? 'approved' : 'rejected'} <RelativeTime iso={d.created_at} />
                {d.commit && <span className="faint mono"> ({shortCommit(d.commit)})</span>}
                {d.comment && <>: &ldquo;{d.comment}&rdquo;</>}
              </li>
            ))}
          </ul>
        )}
        {g.state === 'waiting' && g.can_decide && (
          <div className="approval-form">
            <label className="field-label" htmlFor="approval-comment">
              Comment
            </label>
            <textarea
              id="approval-comment"
              className="textarea"
              rows={2}
              maxLength={2000}
              value={comment}
              onChange={(e) => setComment(e.target.value)}
              placeholder="Why (shown with your decision)"
              data-testid="approval-comment"
            />
            <div className="row" style={{ marginTop: 8 }}>
              <button type="button" className="btn btn-primary" onClick={() => void decide('approve')} disabled={busy !== null} data-testid="approval-approve">
                {busy === 'approve' ? 'Approving…' : '✔ Approve'}
              </button>
              <button type="button" className="btn btn-danger" onClick={() => void decide('reject')} disabled={busy !== null} data-testid="approval-reject">
                {busy === 'reject' ? 'Rejecting…' : '✖ Reject'}
              </button>
            </div>
          </div>
        )}
        {g.state === 'waiting' && !g.can_decide && g.cannot_decide_reason && (
          <div className="muted" data-testid="approval-cannot-decide">
            {g.cannot_decide_reason}
          </div>
        )}
        {error && (
          <div className="field-error" role="alert" data-testid="approval-error">
            {error}
          </div>
        )}
      </div>
    </div>
  );
}

function headline(g: Gate, where: string): string {
  const pr = g.fork_pull_request;
  if (pr && g.state === 'waiting')
    return `Pull request${pr.number !== null ? ` #${pr.number}` : ''} from a fork by ${pr.author || 'an unknown author'} waits for a maintainer to give it the secrets (commit ${shortCommit(pr.commit)})`;
  if (g.state === 'approved')
    return g.release_at ? `Deployment to ${where} approved; it starts at ${new Date(g.release_at).toLocaleString()}` : `Deployment to ${where} approved`;
  if (g.state !== 'waiting') return `Deployment to ${where}: ${g.state.replace('_', ' ')}`;
  return `Waiting for approval to deploy to ${where}: ${g.approvals} of ${g.required_approvals} approval${g.required_approvals === 1 ? '' : 's'}`;
}
