/** Platform health from the gateway's status endpoint, refreshed every 10 s. */
import { useEffect } from 'react';
import { loadGateway } from '../api/gateway';
import type { SystemStatus } from '../api/types';
import { ErrorBanner, Loading } from '../components/Feedback';
import { formatUptime } from '../lib/format';
import { useAsync } from '../lib/use-async';
import { RelativeTime } from '../components/RelativeTime';
import { StorageCard, type StorageStatus } from '../system/StorageCard';

const TONE: Record<string, string> = { healthy: 'tone-success', degraded: 'tone-warning', unhealthy: 'tone-danger' };

async function fetchStatus(signal: AbortSignal): Promise<{ status: SystemStatus; uiVersion: string | null; url: string }> {
  const { gateway, version } = await loadGateway();
  const url = `${gateway.http}/api/v1/system/status`;
  let res: Response;
  try {
    res = await fetch(url, { signal, headers: { Accept: 'application/json' } });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new Error(`The gateway at ${gateway.http} is unreachable.`);
  }
  if (!res.ok && res.status !== 503) throw new Error(`The gateway answered ${res.status}.`);
  return { status: (await res.json()) as SystemStatus, uiVersion: version, url };
}

export default function SystemPage() {
  const state = useAsync(fetchStatus, []);
  const { reload } = state;
  useEffect(() => {
    const id = setInterval(reload, 10_000);
    return () => clearInterval(id);
  }, [reload]);
  const data = state.data;

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>System status</h1>
          <p className="subtitle">Health of the gateway and its backing services. Refreshes every 10 seconds.</p>
        </div>
        <button type="button" className="btn" onClick={reload}>
          Refresh
        </button>
      </div>
      <ErrorBanner error={state.error} onRetry={reload} />
      {!data && state.loading && <Loading />}
      {data && (
        <div className="stack">
          {(data.status.warnings ?? []).length > 0 && (
            <div className="banner banner-warning" role="alert" data-testid="system-warnings">
              <strong>Steps are not isolated on every worker.</strong>
              <ul>
                {data.status.warnings!.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
            </div>
          )}
          <div className="card card-body row" style={{ gap: 16 }}>
            <span className={`badge ${TONE[data.status.status] ?? ''}`} style={{ height: 28, fontSize: 14 }} data-testid="system-status">
              <span className="dot" aria-hidden="true" />
              {data.status.status}
            </span>
            <span className="muted">
              version <strong>{data.status.version}</strong>
            </span>
            <span className="muted">
              up <strong>{formatUptime(data.status.uptime_seconds)}</strong>
            </span>
            <span className="spacer" />
            <code className="faint hide-sm">{data.url}</code>
          </div>
          <div className="grid-2">
            <section className="card">
              <div className="card-head">
                <h2>Services</h2>
              </div>
              <table className="table">
                <tbody>
                  {Object.entries(data.status.services ?? {}).map(([name, health]) => (
                    <tr key={name} data-testid="service-row">
                      <td className="cell-title">{name}</td>
                      <td style={{ textAlign: 'right' }}>
                        <span className={`badge ${TONE[health] ?? 'tone-danger'}`}>
                          <span className="dot" aria-hidden="true" />
                          {health}
                        </span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
            <section className="card card-body">
              <h2 style={{ marginBottom: 16 }}>Metrics</h2>
              <div className="metrics-grid">
                <div className="metric">
                  <span className="value" data-testid="metric-active-pipelines">
                    {data.status.metrics?.active_pipelines ?? '—'}
                  </span>
                  <span className="label">active pipelines</span>
                </div>
                <div className="metric">
                  <span className="value">{data.status.metrics?.running_jobs ?? '—'}</span>
                  <span className="label">running jobs</span>
                </div>
                <div className="metric">
                  <span className="value">{data.status.metrics?.queue_size ?? '—'}</span>
                  <span className="label">queued</span>
                </div>
              </div>
            </section>
          </div>
          <section className="card">
            <div className="card-head">
              <h2>Workers</h2>
              <span className="faint">{data.status.workers?.length ?? 0} alive</span>
            </div>
            {(data.status.workers ?? []).length === 0 ? (
              <p className="card-body faint">No worker has reported in the last 20 seconds: runs stay queued until one does.</p>
            ) : (
              <div className="table-wrap">
                <table className="table">
                  <thead>
                    <tr>
                      <th>Worker</th>
                      <th>Labels</th>
                      <th>Steps</th>
                      <th style={{ textAlign: 'right' }}>Load</th>
                      <th className="hide-sm">Last heartbeat</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.status.workers!.map((w) => (
                      <tr key={w.id} data-testid="worker-row">
                        <td className="cell-title">
                          <code>{w.id}</code>
                        </td>
                        <td>
                          {w.labels.length > 0 ? (
                            w.labels.map((l) => (
                              <span key={l} className="chip">
                                {l}
                              </span>
                            ))
                          ) : (
                            <span className="faint">any</span>
                          )}
                        </td>
                        <td data-testid="worker-sandbox">
                          {w.sandbox ? (
                            <span className={`badge ${w.sandbox.isolated ? 'tone-success' : 'tone-danger'}`} title={w.sandbox.detail}>
                              <span className="dot" aria-hidden="true" />
                              {w.sandbox.isolated ? 'sandboxed' : w.sandbox.mode === 'off' ? 'not isolated' : 'refused: no sandbox'}
                            </span>
                          ) : (
                            <span className="faint">unknown</span>
                          )}
                        </td>
                        <td style={{ textAlign: 'right' }}>
                          {w.active} / {w.concurrency}
                        </td>
                        <td className="hide-sm">
                          <RelativeTime iso={w.heartbeat_at} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          {(data.status as { storage?: StorageStatus | null }).storage && <StorageCard storage={(data.status as { storage?: StorageStatus }).storage!} />}
        </div>
      )}
    </div>
  );
}
