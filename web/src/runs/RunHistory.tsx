/** Paged, status-filterable run history (all runs, or one pipeline's), state in the URL, live statuses. */
import { useEffect } from 'react';
import { listPipelineRuns, listRuns } from '../api/endpoints';
import { ApiError } from '../api/api-error';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback';
import { Pagination } from '../components/Pagination';
import { useAsync } from '../lib/use-async';
import { positiveInt, useUrlState } from '../lib/use-url-state';
import { RunsTable } from './RunsTable';
import { useCurrentProject } from '../projects/current-project';
import { RunStatusFilter } from './StatusFilter';
import { useRunsFeed } from './use-runs-feed';

const KEYS = ['page', 'page_size', 'status'] as const;

export function RunHistory({ pipelineId, pipelineFilter, headerExtra }: { pipelineId?: number; pipelineFilter?: string; headerExtra?: React.ReactNode }) {
  const [query, setQuery] = useUrlState(KEYS);
  const page = positiveInt(query.page, 1);
  const pageSize = positiveInt(query.page_size, 20);
  // All runs are filtered by the header's project; one pipeline's are that pipeline's.
  const project = useCurrentProject() ?? undefined;
  const list = useAsync(
    (signal) =>
      pipelineId !== undefined
        ? listPipelineRuns(pipelineId, { page, page_size: pageSize, status: query.status }, { signal })
        : listRuns({ page, page_size: pageSize, status: query.status as never, pipeline: pipelineFilter, project }, { signal }),
    [pipelineId, pipelineFilter, page, pageSize, query.status, project],
  );
  useRunsFeed(list.data, list.setData, list.reload, page === 1);

  const pastEnd = list.error instanceof ApiError && list.error.status === 404 && page > 1;
  useEffect(() => {
    if (pastEnd) setQuery({ page: null }, { replace: true });
  }, [pastEnd, setQuery]);

  return (
    <div className="card">
      <div className="card-head">
        <div className="row">
          <h2>Runs</h2>
          {headerExtra}
        </div>
        <RunStatusFilter value={query.status} onChange={(v) => setQuery({ status: v, page: null })} />
      </div>
      {!pastEnd && <ErrorBanner error={list.error} onRetry={list.reload} />}
      {!list.data && list.loading && <Loading />}
      {list.data && list.data.results.length === 0 && (
        <EmptyState title={query.status ? `No ${query.status} runs` : 'No runs yet'}>
          <p>{query.status ? 'Try another status.' : 'Runs appear here when a pipeline is run by hand or by a webhook.'}</p>
        </EmptyState>
      )}
      {list.data && list.data.results.length > 0 && (
        <div className={list.loading ? 'is-reloading' : undefined}>
          <RunsTable runs={list.data.results} showPipeline={pipelineId === undefined} />
        </div>
      )}
      {list.data && list.data.count > 0 && (
        <Pagination
          page={page}
          pageSize={pageSize}
          count={list.data.count}
          onPage={(p) => setQuery({ page: p })}
          onPageSize={(s) => setQuery({ page_size: s, page: null })}
        />
      )}
    </div>
  );
}
