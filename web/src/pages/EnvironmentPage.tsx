/** One environment: its rules, what is live on it now, and its deployment history. */
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { getEnvironment, listDeployments } from '../api/delivery';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback';
import { UrlPagination } from '../components/UrlPagination';
import { useToast } from '../components/Toasts';
import { DeploymentsTable, LiveDeployment } from '../delivery/DeploymentsTable';
import { EnvironmentDialog } from '../delivery/EnvironmentDialog';
import { approvalRule } from '../delivery/environment-form';
import { useCanManageEnvironments } from '../delivery/use-can-manage';
import { useAsync } from '../lib/use-async';
import { positiveInt, useUrlState } from '../lib/use-url-state';

const seconds = (n: number) => (n % 3600 === 0 && n > 0 ? `${n / 3600} h` : n % 60 === 0 && n > 0 ? `${n / 60} min` : `${n} s`);

export default function EnvironmentPage() {
  const { id = '' } = useParams();
  const toast = useToast();
  const [query, setQuery] = useUrlState(['page', 'page_size'] as const);
  const page = positiveInt(query.page, 1);
  const pageSize = positiveInt(query.page_size, 20);
  const environment = useAsync((signal) => getEnvironment(id, { signal }), [id]);
  const deployments = useAsync((signal) => listDeployments(id, { page, page_size: pageSize }, { signal }), [id, page, pageSize]);
  const canManage = useCanManageEnvironments();
  const [editing, setEditing] = useState(false);
  const e = environment.data;

  if (!e) {
    return <div className="page">{environment.error ? <ErrorBanner error={environment.error} onRetry={environment.reload} /> : <Loading />}</div>;
  }
  return (
    <div className="page">
      <div className="breadcrumbs">
        <Link to="/environments">Environments</Link>
        <span aria-hidden="true">/</span>
        <span>{e.name}</span>
      </div>
      <div className="page-head">
        <div>
          <h1 data-testid="environment-title">{e.name}</h1>
          {e.description && <p className="subtitle">{e.description}</p>}
        </div>
        {canManage(e.project_id) && (
          <button type="button" className="btn" onClick={() => setEditing(true)} data-testid="environment-edit">
            Edit
          </button>
        )}
      </div>
      <div className="grid-2" style={{ marginBottom: 16 }}>
        <div className="card card-body">
          <h3 style={{ marginBottom: 10 }}>Live now</h3>
          <LiveDeployment live={e.live} />
        </div>
        <div className="card card-body">
          <dl className="meta-list" data-testid="environment-rules">
            <dt>Approvals</dt>
            <dd>{approvalRule(e)}</dd>
            <dt>Branches</dt>
            <dd className="mono">{e.branches.length > 0 ? e.branches.join(', ') : <span className="faint">any</span>}</dd>
            <dt>Wait timer</dt>
            <dd>{e.wait_timer_seconds > 0 ? seconds(e.wait_timer_seconds) : <span className="faint">none</span>}</dd>
            <dt>Approval timeout</dt>
            <dd>
              {e.approval_timeout_seconds !== null ? (
                `${seconds(e.approval_timeout_seconds)}, then ${e.timeout_outcome === 'approve' ? 'it proceeds' : 'it is rejected'}`
              ) : (
                <span className="faint">none</span>
              )}
            </dd>
            <dt>Concurrency</dt>
            <dd>
              {e.concurrency === 'queue'
                ? 'queue: one deployment at a time'
                : e.concurrency === 'latest'
                  ? 'latest: a newer deployment supersedes waiting ones'
                  : 'no limit'}
            </dd>
          </dl>
        </div>
      </div>
      <div className="card">
        <div className="card-head">
          <h2>Deployments</h2>
        </div>
        <ErrorBanner error={deployments.error} onRetry={deployments.reload} />
        {!deployments.data && deployments.loading && <Loading />}
        {deployments.data && deployments.data.results.length === 0 && (
          <EmptyState title="No deployments yet">
            <p>Runs whose steps deploy to {e.name} are listed here.</p>
          </EmptyState>
        )}
        {deployments.data && deployments.data.results.length > 0 && <DeploymentsTable deployments={deployments.data.results} />}
        <UrlPagination count={deployments.data?.count} page={page} pageSize={pageSize} setQuery={setQuery} />
      </div>
      <EnvironmentDialog
        open={editing}
        editing={e}
        onClose={() => setEditing(false)}
        onSaved={(saved) => {
          toast(`Saved ${saved.name}`);
          environment.reload();
        }}
      />
    </div>
  );
}
