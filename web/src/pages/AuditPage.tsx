/** Admin: the audit log. Filters in the URL, older events page by page, JSON lines export. */
import { useEffect, useState } from 'react';
import { errorMessage } from '../api/api-error';
import { downloadAuditEvents, listAuditEvents, type AuditEvent } from '../api/tokens-audit';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback';
import { RelativeTime } from '../components/RelativeTime';
import { useToast } from '../components/Toasts';
import { useAsync } from '../lib/use-async';
import { useUrlState } from '../lib/use-url-state';
import { AUDIT_FILTER_KEYS, auditQuery, diffText, type AuditFilterKey } from '../audit/audit-query';

const TARGET_TYPES = ['', 'pipeline', 'run', 'credential', 'user', 'token', 'project', 'membership'];
const PAGE_SIZE = 50;

export default function AuditPage() {
  const toast = useToast();
  const [filters, setFilters] = useUrlState(AUDIT_FILTER_KEYS);
  const [draft, setDraft] = useState(filters);
  useEffect(() => setDraft(filters), [filters]);
  const query = auditQuery(filters);
  const key = JSON.stringify(query);
  const first = useAsync((signal) => listAuditEvents({ ...query, page_size: PAGE_SIZE }, { signal }), [key]);
  const [older, setOlder] = useState<AuditEvent[]>([]);
  const [next, setNext] = useState<string | null>(null);
  useEffect(() => {
    setOlder([]);
    setNext(first.data?.next ?? null);
  }, [first.data]);

  const loadOlder = async () => {
    if (!next) return;
    try {
      const cursor = new URL(next, window.location.origin).searchParams.get('cursor');
      const page = await listAuditEvents({ ...query, page_size: PAGE_SIZE, cursor });
      setOlder((o) => [...o, ...page.results]);
      setNext(page.next);
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
  };

  const exportLines = async () => {
    try {
      await downloadAuditEvents(query);
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
  };

  const events = [...(first.data?.results ?? []), ...older];
  const field = (name: AuditFilterKey, label: string, type = 'text', placeholder = '') => (
    <label className="field" style={{ minWidth: 140 }}>
      <span className="field-label">{label}</span>
      <input
        className="input input-sm"
        type={type}
        placeholder={placeholder}
        value={draft[name]}
        onChange={(e) => setDraft({ ...draft, [name]: e.target.value })}
        data-testid={`audit-filter-${name}`}
      />
    </label>
  );

  return (
    <div className="page page-wide">
      <div className="page-head">
        <div>
          <h1>Audit log</h1>
          <p className="subtitle">Who changed what, from where. Events cannot be changed or deleted.</p>
        </div>
        <button type="button" className="btn" onClick={() => void exportLines()} data-testid="audit-export">
          Export JSON lines
        </button>
      </div>
      <form
        className="card card-body filters"
        style={{ display: 'flex', flexWrap: 'wrap', gap: 12, alignItems: 'flex-end' }}
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
        }}
        data-testid="audit-filters"
      >
        {field('actor', 'Actor', 'text', 'username or id')}
        {field('action', 'Action', 'text', 'pipeline.* or run.trigger')}
        <label className="field">
          <span className="field-label">Target</span>
          <select
            className="select input-sm"
            value={draft.target_type}
            onChange={(e) => setDraft({ ...draft, target_type: e.target.value })}
            data-testid="audit-filter-target_type"
          >
            {TARGET_TYPES.map((t) => (
              <option key={t} value={t}>
                {t === '' ? 'any' : t}
              </option>
            ))}
          </select>
        </label>
        {field('target_id', 'Target id')}
        {field('project', 'Project id')}
        {field('since', 'Since', 'datetime-local')}
        {field('until', 'Until', 'datetime-local')}
        <button type="submit" className="btn btn-primary btn-sm" data-testid="audit-apply">
          Apply
        </button>
        <button
          type="button"
          className="btn btn-ghost btn-sm"
          onClick={() => setFilters(Object.fromEntries(AUDIT_FILTER_KEYS.map((k) => [k, null])) as Record<AuditFilterKey, null>)}
        >
          Clear
        </button>
      </form>
      <div className="card" style={{ marginTop: 16 }}>
        <ErrorBanner error={first.error} onRetry={first.reload} />
        {!first.data && first.loading && <Loading />}
        {first.data && events.length === 0 && <EmptyState title="No events match" />}
        {events.length > 0 && (
          <div className="table-wrap">
            <table className="table" data-testid="audit-table">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Actor</th>
                  <th>Action</th>
                  <th>Target</th>
                  <th>Changes</th>
                  <th className="hide-sm">Source</th>
                </tr>
              </thead>
              <tbody>
                {events.map((e) => (
                  <tr key={e.id} data-testid="audit-row" data-action={e.action}>
                    <td className="nowrap muted" title={e.at}>
                      <RelativeTime iso={e.at} />
                    </td>
                    <td>{e.actor ? e.actor.username : <span className="muted">{e.source_ip === null ? 'system' : 'anonymous'}</span>}</td>
                    <td>
                      <span className="chip mono">{e.action}</span>
                    </td>
                    <td>
                      <div className="cell-title">{e.target.name ?? '—'}</div>
                      <div className="cell-sub">
                        {e.target.type}
                        {e.target.id !== null ? ` #${e.target.id}` : ''}
                      </div>
                    </td>
                    <td>
                      <DiffCell diff={e.diff} />
                    </td>
                    <td className="hide-sm cell-sub">
                      <div>{e.source_ip ?? '—'}</div>
                      <div className="truncate" style={{ maxWidth: 220 }} title={e.user_agent ?? ''}>
                        {e.user_agent ?? ''}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {next && (
          <div className="card-body">
            <button type="button" className="btn" onClick={() => void loadOlder()} data-testid="audit-older">
              Older events
            </button>
          </div>
        )}
      </div>
    </div>
  );
}

function DiffCell({ diff }: { diff: AuditEvent['diff'] }) {
  if (!diff || Object.keys(diff).length === 0) return <span className="muted">—</span>;
  const fields = Object.entries(diff);
  return (
    <details>
      <summary className="cell-sub">
        {fields.length} field{fields.length === 1 ? '' : 's'}: {fields.map(([k]) => k).join(', ')}
      </summary>
      <dl className="meta-list mono" style={{ fontSize: 12 }} data-testid="audit-diff">
        {fields.map(([name, change]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>
              {'before' in change && <span className="muted">{diffText(change.before)}</span>}
              {'before' in change && 'after' in change && ' → '}
              {'after' in change && <span>{diffText(change.after)}</span>}
            </dd>
          </div>
        ))}
      </dl>
    </details>
  );
}
