/**
 * A pipeline's caches (docs/artifacts.md): each key with its scope, size, files, hits, last use and
 * age; the lookups and hit rate of the pipeline's runs; clearing one entry or all of them (who may
 * edit the pipeline; the server decides and says why not).
 */
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { clearCaches, getPipeline, listCaches } from '../api/endpoints';
import type { CacheEntry } from '../api/types';
import { canEditPipeline, useAuth } from '../auth/AuthProvider';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback';
import { RelativeTime } from '../components/RelativeTime';
import { useToast } from '../components/Toasts';
import { formatBytes } from '../lib/format';
import { useAsync } from '../lib/use-async';
import '../styles/run.css';

/** `branch-main` → `main`, `pr-12` → `pull request #12`. */
function scopeText(scope: string): string {
  if (scope.startsWith('branch-')) return `branch ${scope.slice('branch-'.length)}`;
  if (scope.startsWith('pr-')) return `pull request #${scope.slice('pr-'.length)}`;
  return scope;
}

export default function PipelineCachesPage() {
  const { id = '' } = useParams();
  const { user } = useAuth();
  const toast = useToast();
  const pipeline = useAsync((signal) => getPipeline(id, { signal }), [id]);
  const caches = useAsync((signal) => listCaches(id, { signal }), [id]);
  const [clearing, setClearing] = useState<CacheEntry | 'all' | null>(null);
  const editable = pipeline.data ? canEditPipeline(user, pipeline.data.created_by) : false;
  const data = caches.data;
  const hitRate = data?.stats.hit_rate;

  return (
    <div className="page">
      <div className="breadcrumbs">
        <Link to="/pipelines">Pipelines</Link>
        <span aria-hidden="true">/</span>
        {pipeline.data ? <Link to={`/pipelines/${pipeline.data.id}`}>{pipeline.data.name}</Link> : <span>…</span>}
        <span aria-hidden="true">/</span>
        <span>Caches</span>
      </div>
      <div className="page-head">
        <div>
          <h1>Caches</h1>
          <p className="subtitle">
            What steps&apos; <code>cache:</code> saved for the next runs. The default branch&apos;s caches are read by every run; a pull request&apos;s only by
            that pull request. The least recently used go first when all caches pass the budget.
          </p>
        </div>
        {editable && data && data.count > 0 && (
          <button type="button" className="btn btn-danger" onClick={() => setClearing('all')} data-testid="clear-caches">
            Clear all caches
          </button>
        )}
      </div>
      <ErrorBanner error={pipeline.error ?? caches.error} onRetry={caches.reload} />
      {!data && caches.loading && <Loading />}
      {data && (
        <dl className="run-facts" data-testid="cache-stats">
          <div>
            <dt>Caches</dt>
            <dd className="tabular" data-testid="cache-count">
              {data.count}
            </dd>
          </div>
          <div>
            <dt>Total size</dt>
            <dd className="tabular" data-testid="cache-total">
              {formatBytes(data.total_bytes)}
            </dd>
          </div>
          <div>
            <dt>Lookups</dt>
            <dd className="tabular">{data.stats.lookups.toLocaleString()}</dd>
          </div>
          <div>
            <dt>Hit rate</dt>
            <dd
              className="tabular"
              data-testid="cache-hit-rate"
              title={`${data.stats.exact_hits} exact, ${data.stats.partial_hits} from a restore key, of ${data.stats.lookups} lookups`}
            >
              {hitRate === null || hitRate === undefined ? '—' : `${Math.round(hitRate * 100)}%`}
            </dd>
          </div>
        </dl>
      )}
      <div className="card">
        {data && data.results.length === 0 && (
          <EmptyState title="No caches">
            <p>
              A step with <code>cache: {'{key, paths}'}</code> saves one after it succeeds.
            </p>
          </EmptyState>
        )}
        {data && data.results.length > 0 && (
          <div className={`table-wrap ${caches.loading ? 'is-reloading' : ''}`}>
            <table className="table" data-testid="caches-table">
              <thead>
                <tr>
                  <th>Key</th>
                  <th>Scope</th>
                  <th className="num">Size</th>
                  <th className="num hide-sm">Files</th>
                  <th className="num">Hits</th>
                  <th>Last used</th>
                  <th className="hide-sm">Saved</th>
                  {editable && (
                    <th className="actions">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {data.results.map((c) => (
                  <tr key={c.id} data-testid="cache-row" data-cache-key={c.key}>
                    <td className="mono truncate" style={{ maxWidth: 320 }} title={c.key}>
                      {c.key}
                    </td>
                    <td>
                      <span className="chip" data-testid="cache-scope">
                        {scopeText(c.scope)}
                      </span>
                    </td>
                    <td className="num tabular" data-testid="cache-size">
                      {formatBytes(c.size_bytes)}
                    </td>
                    <td className="num tabular hide-sm">{c.entries.toLocaleString()}</td>
                    <td className="num tabular" data-testid="cache-hits">
                      {c.hits}
                    </td>
                    <td className="muted" data-testid="cache-last-used">
                      <RelativeTime iso={c.last_used_at} />
                    </td>
                    <td className="muted hide-sm">
                      <RelativeTime iso={c.created_at} />
                    </td>
                    {editable && (
                      <td className="actions">
                        <button type="button" className="btn btn-sm" onClick={() => setClearing(c)} data-testid="delete-cache">
                          Delete
                        </button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <ConfirmDialog
        open={clearing !== null}
        title={clearing === 'all' ? 'Clear all caches?' : 'Delete this cache?'}
        message={
          clearing === 'all' ? (
            <p>Every cache of this pipeline is removed; the next runs start without them and save new ones.</p>
          ) : (
            <p>
              The cache <code>{clearing?.key}</code> is removed; the next run that needs it starts without it.
            </p>
          )
        }
        confirmLabel={clearing === 'all' ? 'Clear all' : 'Delete'}
        danger
        onConfirm={async () => {
          const { deleted } = await clearCaches(id, clearing === 'all' || clearing === null ? undefined : clearing.id);
          toast(`${deleted} ${deleted === 1 ? 'cache' : 'caches'} cleared`);
          caches.reload();
        }}
        onClose={() => setClearing(null)}
      />
    </div>
  );
}
