/** Webhook deliveries: what arrived, what it triggered, and why not. */
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { listDeliveries, redeliver } from '../api/endpoints';
import { errorMessage } from '../api/api-error';
import { canRun, useAuth } from '../auth/AuthProvider';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback';
import { UrlPagination } from '../components/UrlPagination';
import { StatusIcon, statusLabel } from '../components/StatusIcon';
import { RelativeTime } from '../components/RelativeTime';
import { useToast } from '../components/Toasts';
import { shortCommit } from '../lib/format';
import { useAsync } from '../lib/use-async';
import { positiveInt, useUrlState } from '../lib/use-url-state';

const VERDICT_TONE = { triggered: 'tone-success', ignored: '', rejected: 'tone-danger' } as const;

export default function WebhooksPage() {
  const { user } = useAuth();
  const toast = useToast();
  const [query, setQuery] = useUrlState(['page', 'page_size'] as const);
  const [params] = useSearchParams();
  const highlight = params.get('highlight');
  const page = positiveInt(query.page, 1);
  const pageSize = positiveInt(query.page_size, 20);
  const list = useAsync((signal) => listDeliveries({ page, page_size: pageSize }, { signal }), [page, pageSize]);
  const [busy, setBusy] = useState<string | null>(null);

  const resend = async (id: number | string) => {
    setBusy(String(id));
    try {
      await redeliver(id);
      toast('Delivery replayed');
      list.reload();
    } catch (err) {
      toast(errorMessage(err), 'error');
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Webhook deliveries</h1>
          <p className="subtitle">
            Pushes, tags and pull requests from GitHub and GitLab. Point your repository's webhook at the gateway: <code>/api/v1/webhooks/github</code> or{' '}
            <code>/api/v1/webhooks/gitlab</code>.
          </p>
        </div>
      </div>
      <div className="card">
        <ErrorBanner error={list.error} onRetry={list.reload} />
        {!list.data && list.loading && <Loading />}
        {list.data && list.data.results.length === 0 && (
          <EmptyState title="No deliveries yet">
            <p>Deliveries appear here as soon as a repository sends a webhook.</p>
          </EmptyState>
        )}
        {list.data && list.data.results.length > 0 && (
          <div className={`table-wrap ${list.loading ? 'is-reloading' : ''}`}>
            <table className="table" data-testid="deliveries-table">
              <thead>
                <tr>
                  <th>Received</th>
                  <th>Event</th>
                  <th className="hide-sm">Repository</th>
                  <th>Result</th>
                  <th>Runs</th>
                  <th className="actions">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.results.map((d) => (
                  <tr
                    key={d.id}
                    data-testid="delivery-row"
                    data-verdict={d.verdict}
                    style={highlight === String(d.id) ? { background: 'var(--accent-soft)' } : undefined}
                  >
                    <td className="muted">
                      <RelativeTime iso={d.received_at} />
                    </td>
                    <td>
                      <div className="cell-title">
                        {d.provider} · {d.event}
                        {d.action ? `/${d.action}` : ''}
                      </div>
                      <div className="cell-sub mono">
                        {d.ref ?? ''} {d.commit ? shortCommit(d.commit) : ''}
                      </div>
                    </td>
                    <td className="hide-sm mono truncate" style={{ maxWidth: 280 }}>
                      {d.repository ?? '—'}
                    </td>
                    <td>
                      <span className={`badge ${VERDICT_TONE[d.verdict] ?? ''}`} data-testid="delivery-verdict">
                        {d.verdict}
                      </span>
                      {d.reason && <div className="cell-sub">{d.reason}</div>}
                    </td>
                    <td>
                      {d.runs.length === 0 ? (
                        <span className="faint">—</span>
                      ) : (
                        d.runs.map((id) => {
                          const result = d.run_results?.find((r) => r.id === id);
                          return (
                            <div key={id} className="delivery-run" data-testid="delivery-run" data-status={result?.status ?? ''}>
                              <Link to={`/runs/${id}`} className="chip" style={{ marginRight: 4 }}>
                                {result && <StatusIcon status={result.status} />} {result ? `${result.pipeline} #${result.number}` : `run ${id}`}
                              </Link>
                              {result && <span className="faint">{statusLabel(result.status)}</span>}
                              {result?.error_reason && (
                                <div className="cell-sub" data-testid="delivery-run-reason">
                                  {result.error_reason}
                                </div>
                              )}
                            </div>
                          );
                        })
                      )}
                    </td>
                    <td className="actions">
                      {canRun(user) && (
                        <button type="button" className="btn btn-sm" disabled={busy === String(d.id)} onClick={() => void resend(d.id)} data-testid="redeliver">
                          Redeliver
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <UrlPagination count={list.data?.count} page={page} pageSize={pageSize} setQuery={setQuery} />
      </div>
    </div>
  );
}
