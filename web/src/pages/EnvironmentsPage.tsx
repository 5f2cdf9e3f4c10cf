/** Environments: where steps deploy, who must approve, and what is live on each. */
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { deleteEnvironment, listEnvironments, type Environment } from '../api/delivery';
import { useAuth } from '../auth/AuthProvider';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback';
import { UrlPagination } from '../components/UrlPagination';
import { useToast } from '../components/Toasts';
import { EnvironmentDialog } from '../delivery/EnvironmentDialog';
import { LiveDeployment } from '../delivery/DeploymentsTable';
import { approvalRule } from '../delivery/environment-form';
import { useCanManageEnvironments } from '../delivery/use-can-manage';
import { useCurrentProject } from '../projects/current-project';
import { useAsync } from '../lib/use-async';
import { positiveInt, useUrlState } from '../lib/use-url-state';

export default function EnvironmentsPage() {
  const { user } = useAuth();
  const toast = useToast();
  const project = useCurrentProject();
  const [query, setQuery] = useUrlState(['page', 'page_size'] as const);
  const page = positiveInt(query.page, 1);
  const pageSize = positiveInt(query.page_size, 20);
  const list = useAsync((signal) => listEnvironments({ page, page_size: pageSize, project }, { signal }), [page, pageSize, project]);
  const canManage = useCanManageEnvironments();
  const [dialog, setDialog] = useState<{ editing: Environment | null } | null>(null);
  const [deleting, setDeleting] = useState<Environment | null>(null);

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Environments</h1>
          <p className="subtitle">
            A step with <code>environment: &lt;name&gt;</code> waits here for its approvals before the run starts. Each shows what is live on it now.
          </p>
        </div>
        {user && canManage(null) && (
          <button type="button" className="btn btn-primary" onClick={() => setDialog({ editing: null })} data-testid="new-environment">
            + New environment
          </button>
        )}
      </div>
      <div className="card">
        <ErrorBanner error={list.error} onRetry={list.reload} />
        {!list.data && list.loading && <Loading />}
        {list.data && list.data.results.length === 0 && (
          <EmptyState title="No environments yet">
            <p>Create one (production, staging), then name it in a deploying step.</p>
          </EmptyState>
        )}
        {list.data && list.data.results.length > 0 && (
          <div className="table-wrap">
            <table className="table" data-testid="environments-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Approvals</th>
                  <th className="hide-sm">Branches</th>
                  <th>Live now</th>
                  <th className="actions">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.results.map((e) => (
                  <tr key={e.id} data-testid="environment-row" data-name={e.name}>
                    <td>
                      <Link className="cell-title mono" to={`/environments/${e.id}`} data-testid="environment-link">
                        {e.name}
                      </Link>
                      {e.description && <div className="cell-sub">{e.description}</div>}
                    </td>
                    <td data-testid="environment-rule">{approvalRule(e)}</td>
                    <td className="hide-sm mono">{e.branches.length > 0 ? e.branches.join(', ') : <span className="faint">any</span>}</td>
                    <td>
                      <LiveDeployment live={e.live} />
                    </td>
                    <td className="actions">
                      {canManage(e.project_id) && (
                        <div className="row-actions">
                          <button type="button" className="btn btn-sm" onClick={() => setDialog({ editing: e })} data-testid="environment-edit">
                            Edit
                          </button>{' '}
                          <button type="button" className="btn btn-sm btn-danger" onClick={() => setDeleting(e)} data-testid="environment-delete">
                            Delete
                          </button>
                        </div>
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
      <EnvironmentDialog
        open={dialog !== null}
        editing={dialog?.editing ?? null}
        onClose={() => setDialog(null)}
        onSaved={(e) => {
          toast(dialog?.editing ? `Saved ${e.name}` : `Created ${e.name}`);
          list.reload();
        }}
      />
      <ConfirmDialog
        open={deleting !== null}
        title="Delete environment"
        danger
        confirmLabel="Delete"
        message={
          <p>
            Delete <strong>{deleting?.name}</strong>? Runs waiting for approval at it end cancelled; its deployment history keeps the name.
          </p>
        }
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await deleteEnvironment(deleting.id);
          toast(`Deleted ${deleting.name}`);
          list.reload();
        }}
      />
    </div>
  );
}
