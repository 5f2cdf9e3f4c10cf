/** Pipelines: search, status and creator filters, paging (all in the URL), last run per row. */
import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { listPipelines } from '../api/endpoints';
import { ApiError } from '../api/api-error';
import { canRun, useAuth } from '../auth/AuthProvider';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback';
import { UrlPagination } from '../components/UrlPagination';
import { RelativeTime } from '../components/RelativeTime';
import { StatusBadge } from '../components/StatusBadge';
import { CreatorFilter } from '../pipelines/CreatorFilter';
import { PipelineActions } from '../pipelines/PipelineActions';
import { useAsync } from '../lib/use-async';
import { useDebounced } from '../lib/use-debounced';
import { positiveInt, useUrlState } from '../lib/use-url-state';
import { useCurrentProject } from '../projects/current-project';
import { useProjects } from '../projects/use-projects';

const KEYS = ['page', 'page_size', 'search', 'status', 'created_by'] as const;

export function PipelinesPage() {
  const { user } = useAuth();
  const [query, setQuery] = useUrlState(KEYS);
  const page = positiveInt(query.page, 1);
  const pageSize = positiveInt(query.page_size, 20);
  const [searchText, setSearchText] = useState(query.search);
  const debouncedSearch = useDebounced(searchText, 300);

  useEffect(() => setSearchText(query.search), [query.search]);
  useEffect(() => {
    if (debouncedSearch !== query.search) setQuery({ search: debouncedSearch, page: null }, { replace: true });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debouncedSearch]);

  const project = useCurrentProject() ?? undefined;
  // Names are unique per project only: across all projects, each row says which one it is in.
  const { projects } = useProjects();
  const projectName = new Map(projects.map((p) => [p.id, p.name]));
  const showProject = project === undefined && projects.length > 1;
  const list = useAsync(
    (signal) => listPipelines({ page, page_size: pageSize, search: query.search, status: query.status, created_by: query.created_by, project }, { signal }),
    [page, pageSize, query.search, query.status, query.created_by, project],
  );

  // a page past the end (after deletes or a filter change) goes back to page 1
  const pastEnd = list.error instanceof ApiError && list.error.status === 404 && page > 1;
  useEffect(() => {
    if (pastEnd) setQuery({ page: null }, { replace: true });
  }, [pastEnd, setQuery]);

  const filtered = query.search !== '' || query.status !== '' || query.created_by !== '';
  const data = list.data;

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Pipelines</h1>
          <p className="subtitle">Build, test and deploy definitions. Run them by hand or from a push.</p>
        </div>
        <div className="row">
          <Link to="/pipelines/file" className="btn" data-testid="open-pipeline-file">
            Pipeline file
          </Link>
          {canRun(user) && (
            <Link to="/pipelines/new" className="btn btn-primary" data-testid="new-pipeline">
              + New pipeline
            </Link>
          )}
        </div>
      </div>

      <div className="filters" role="search">
        <input
          className="input"
          type="search"
          placeholder="Search name or description"
          aria-label="Search pipelines"
          value={searchText}
          onChange={(e) => setSearchText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') setQuery({ search: searchText, page: null });
          }}
          data-testid="filter-search"
        />
        <select
          className="select"
          aria-label="Status"
          value={query.status}
          onChange={(e) => setQuery({ status: e.target.value, page: null })}
          data-testid="filter-status"
        >
          <option value="">All statuses</option>
          <option value="active">Active</option>
          <option value="inactive">Inactive</option>
        </select>
        <CreatorFilter value={query.created_by} onChange={(v) => setQuery({ created_by: v, page: null })} />
        {filtered && (
          <button type="button" className="btn btn-ghost" onClick={() => setQuery({ search: null, status: null, created_by: null, page: null })}>
            Clear filters
          </button>
        )}
      </div>

      <div className="card">
        {!pastEnd && <ErrorBanner error={list.error} onRetry={list.reload} />}
        {!data && list.loading && <Loading />}
        {data && data.results.length === 0 && (
          <EmptyState title={filtered ? 'No pipelines match' : 'No pipelines yet'}>
            {filtered ? <p>Try another search or clear the filters.</p> : canRun(user) ? <Link to="/pipelines/new">Create your first pipeline</Link> : null}
          </EmptyState>
        )}
        {data && data.results.length > 0 && (
          <div className={`table-wrap ${list.loading ? 'is-reloading' : ''}`}>
            <table className="table" data-testid="pipelines-table">
              <thead>
                <tr>
                  <th>Pipeline</th>
                  <th>Last run</th>
                  <th className="hide-sm">Steps</th>
                  <th className="hide-sm">Created by</th>
                  <th className="actions">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.results.map((p) => (
                  <tr key={p.id} data-testid="pipeline-row" data-pipeline-id={p.id} data-pipeline-name={p.name}>
                    <td>
                      <div className="row" style={{ flexWrap: 'nowrap' }}>
                        <Link to={`/pipelines/${p.id}`} className="cell-title" data-testid="pipeline-link">
                          {p.name}
                        </Link>
                        {p.status === 'inactive' && <span className="chip">inactive</span>}
                        {showProject && <ProjectChip name={projectName.get(p.project_id ?? 0)} />}
                      </div>
                      <div className="cell-sub truncate">{p.description || <span className="faint">{p.repository_url || 'No repository'}</span>}</div>
                    </td>
                    <td>
                      {p.last_run ? (
                        <Link to={`/runs/${p.last_run.id}`} className="row" style={{ flexWrap: 'nowrap', color: 'inherit' }} data-testid="pipeline-last-run">
                          <StatusBadge status={p.last_run.status} testId="last-run-status" />
                          <span className="muted">
                            <RelativeTime iso={p.last_run.finished_at ?? p.last_run.started_at} />
                          </span>
                        </Link>
                      ) : (
                        <span className="faint">Never run</span>
                      )}
                    </td>
                    <td className="hide-sm tabular">{p.steps_count}</td>
                    <td className="hide-sm">{p.created_by?.username ?? <span className="faint">—</span>}</td>
                    <td className="actions">
                      <PipelineActions pipeline={p} onChanged={list.reload} compact />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <UrlPagination count={data?.count} page={page} pageSize={pageSize} setQuery={setQuery} />
      </div>
    </div>
  );
}

function ProjectChip({ name }: { name: string | undefined }) {
  if (name === undefined) return null;
  return (
    <span className="chip" data-testid="pipeline-project">
      {name}
    </span>
  );
}
