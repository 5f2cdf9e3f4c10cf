/** Inventories: a project's hosts for Ansible steps (docs/ansible.md). The list; each opens its page (edit, hosts, versions). */
import { Link } from 'react-router-dom';
import { listInventories } from '../api/endpoints';
import { canRun, useAuth } from '../auth/AuthProvider';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback';
import { Pagination } from '../components/Pagination';
import { RelativeTime } from '../components/RelativeTime';
import { useAsync } from '../lib/use-async';
import { positiveInt, useUrlState } from '../lib/use-url-state';

export default function InventoriesPage() {
  const { user } = useAuth();
  const [query, setQuery] = useUrlState(['page', 'page_size'] as const);
  const page = positiveInt(query.page, 1);
  const pageSize = positiveInt(query.page_size, 20);
  const list = useAsync((signal) => listInventories({ page, page_size: pageSize }, { signal }), [page, pageSize]);

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Inventories</h1>
          <p className="subtitle">
            Hosts and groups for Ansible steps (<code>inventory_name:</code>), parsed by Ansible itself; every save is a version.
          </p>
        </div>
        {canRun(user) && (
          <Link className="btn btn-primary" to="/inventories/new" data-testid="new-inventory">
            + New inventory
          </Link>
        )}
      </div>
      <div className="card">
        <ErrorBanner error={list.error} onRetry={list.reload} />
        {!list.data && list.loading && <Loading />}
        {list.data && list.data.results.length === 0 && (
          <EmptyState title="No inventories yet">
            <p>Add the hosts a playbook deploys to, then name the inventory in an Ansible step.</p>
          </EmptyState>
        )}
        {list.data && list.data.results.length > 0 && (
          <div className="table-wrap">
            <table className="table" data-testid="inventories-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Format</th>
                  <th>Hosts</th>
                  <th>Version</th>
                  <th className="hide-sm">SSH credential</th>
                  <th className="hide-sm">Updated</th>
                </tr>
              </thead>
              <tbody>
                {list.data.results.map((i) => (
                  <tr key={i.id} data-testid="inventory-row" data-name={i.name}>
                    <td>
                      <Link className="cell-title mono" to={`/inventories/${i.id}`}>
                        {i.name}
                      </Link>
                      {i.description && <div className="cell-sub">{i.description}</div>}
                    </td>
                    <td>
                      <span className="badge">{i.format}</span>
                    </td>
                    <td className="tabular" data-testid="inventory-host-count">
                      {i.host_count}
                    </td>
                    <td className="tabular">v{i.version}</td>
                    <td className="hide-sm mono muted">{i.ssh_credential ?? '—'}</td>
                    <td className="hide-sm muted">
                      <RelativeTime iso={i.updated_at} />
                      {i.updated_by && <div className="cell-sub">by {i.updated_by.username}</div>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
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
    </div>
  );
}
