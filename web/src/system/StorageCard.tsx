/**
 * The System page's Storage card: disk use of the database, logs, workspaces and artifacts, the
 * global retention default and what the retention sweeper last did (the `storage` part of the
 * gateway's /api/v1/system/status; docs/operations.md, Retention).
 */
import { RelativeTime } from '../components/RelativeTime';
import { formatBytes } from '../lib/format';

export interface StorageStatus {
  disk: { database_bytes: number | null; logs_bytes: number; workspaces_bytes: number; artifacts_bytes: number; measured_at: string } | null;
  retention: {
    default: { keep_runs: number | null; keep_days: number | null };
    sweeper: {
      claimed_by: string | null;
      last_started_at: string | null;
      last_finished_at: string | null;
      last_deleted_runs: number;
      last_freed_bytes: number;
      last_error: string | null;
      total_deleted_runs: number;
    } | null;
  };
}

const policyText = (p: { keep_runs: number | null; keep_days: number | null }) =>
  [p.keep_runs !== null ? `the newest ${p.keep_runs.toLocaleString()} runs` : null, p.keep_days !== null ? `the last ${p.keep_days} days` : null]
    .filter(Boolean)
    .join(' and ') || 'everything (no limit)';

export function StorageCard({ storage }: { storage: StorageStatus }) {
  const { disk, retention } = storage;
  const sweeper = retention.sweeper;
  const sizes: [string, number | null][] = disk
    ? [
        ['Database', disk.database_bytes],
        ['Logs', disk.logs_bytes],
        ['Workspaces', disk.workspaces_bytes],
        ['Artifacts', disk.artifacts_bytes],
      ]
    : [];
  return (
    <section className="card" data-testid="system-storage">
      <div className="card-head">
        <h2>Storage and retention</h2>
        {disk && (
          <span className="faint">
            measured <RelativeTime iso={disk.measured_at} />
          </span>
        )}
      </div>
      <div className="card-body">
        {disk ? (
          <div className="row" style={{ gap: 24, flexWrap: 'wrap' }}>
            {sizes.map(([label, bytes]) => (
              <div key={label} data-testid={`disk-${label.toLowerCase()}`}>
                <strong>{formatBytes(bytes)}</strong> <span className="label faint">{label}</span>
              </div>
            ))}
          </div>
        ) : (
          <p className="faint">Disk use is being measured…</p>
        )}
        <p>
          Kept by default: <strong>{policyText(retention.default)}</strong> of each pipeline (pipelines may set their own; pinned runs are always kept).
        </p>
        <p data-testid="sweeper-last">
          {sweeper?.claimed_by ? `Sweeping now (${sweeper.claimed_by}). ` : null}
          {sweeper?.last_finished_at ? (
            <>
              Last sweep <RelativeTime iso={sweeper.last_finished_at} />: {sweeper.last_deleted_runs.toLocaleString()} runs removed (
              {formatBytes(sweeper.last_freed_bytes)}); {sweeper.total_deleted_runs.toLocaleString()} in all.
            </>
          ) : (
            'No sweep has finished yet.'
          )}
        </p>
        {sweeper?.last_error && (
          <div className="banner banner-error" role="alert">
            The last sweep failed: {sweeper.last_error}
          </div>
        )}
      </div>
    </section>
  );
}
