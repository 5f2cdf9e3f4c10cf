/** Credentials: keys, passwords and tokens steps name with `credential:`. Metadata only; values are write-only. */
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { deleteCredential, listCredentials } from '../api/endpoints';
import { ApiError, errorMessage } from '../api/api-error';
import type { Credential } from '../api/types';
import { canEditPipeline, canRun, useAuth } from '../auth/AuthProvider';
import { Dialog } from '../components/Dialog';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback';
import { UrlPagination } from '../components/UrlPagination';
import { RelativeTime } from '../components/RelativeTime';
import { useToast } from '../components/Toasts';
import { CredentialDialog } from '../credentials/CredentialDialog';
import { KIND_LABELS } from '../credentials/credential-form';
import { useAsync } from '../lib/use-async';
import { positiveInt, useUrlState } from '../lib/use-url-state';

export default function CredentialsPage() {
  const { user } = useAuth();
  const toast = useToast();
  const [query, setQuery] = useUrlState(['page', 'page_size'] as const);
  const page = positiveInt(query.page, 1);
  const pageSize = positiveInt(query.page_size, 20);
  const list = useAsync((signal) => listCredentials({ page, page_size: pageSize }, { signal }), [page, pageSize]);
  const [dialog, setDialog] = useState<{ editing: Credential | null } | null>(null);
  const [deleting, setDeleting] = useState<Credential | null>(null);

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Credentials</h1>
          <p className="subtitle">
            SSH keys, passwords and tokens. A step receives one only when it names it (<code>credential:</code>); values are never shown again once saved.
          </p>
        </div>
        {canRun(user) && (
          <button type="button" className="btn btn-primary" onClick={() => setDialog({ editing: null })} data-testid="new-credential">
            + New credential
          </button>
        )}
      </div>
      <div className="card">
        <ErrorBanner error={list.error} onRetry={list.reload} />
        {!list.data && list.loading && <Loading />}
        {list.data && list.data.results.length === 0 && (
          <EmptyState title="No credentials yet">
            <p>Add an SSH key or a token, then name it in a step of a pipeline.</p>
          </EmptyState>
        )}
        {list.data && list.data.results.length > 0 && (
          <div className="table-wrap">
            <table className="table" data-testid="credentials-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Kind</th>
                  <th className="hide-sm">Fingerprint</th>
                  <th>Used by</th>
                  <th className="hide-sm">Updated</th>
                  <th className="actions">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.results.map((c) => (
                  <tr key={c.id} data-testid="credential-row" data-name={c.name}>
                    <td>
                      <div className="cell-title mono">{c.name}</div>
                      {c.description && <div className="cell-sub">{c.description}</div>}
                    </td>
                    <td>
                      <span className="badge" data-testid="credential-kind">
                        {KIND_LABELS[c.kind] ?? c.kind}
                      </span>
                    </td>
                    <td className="hide-sm mono muted" data-testid="credential-fingerprint" style={{ wordBreak: 'break-all' }}>
                      {c.fingerprint ?? '—'}
                    </td>
                    <td data-testid="credential-used-by">
                      {c.used_by.length === 0 ? (
                        <span className="muted">—</span>
                      ) : (
                        c.used_by.map((p, i) => (
                          <span key={p.id}>
                            {i > 0 && ', '}
                            <Link to={`/pipelines/${p.id}`}>{p.name}</Link>
                          </span>
                        ))
                      )}
                    </td>
                    <td className="hide-sm muted">
                      <RelativeTime iso={c.updated_at} />
                      {c.updated_by && <div className="cell-sub">by {c.updated_by.username}</div>}
                    </td>
                    <td className="actions">
                      {/* The rule of pipelines (domain/roles.ts): admins; developers their own. */}
                      {canEditPipeline(user, c.created_by) && (
                        <div className="row-actions">
                          <button type="button" className="btn btn-sm" onClick={() => setDialog({ editing: c })} data-testid="credential-edit">
                            Edit
                          </button>{' '}
                          <button type="button" className="btn btn-sm btn-danger" onClick={() => setDeleting(c)} data-testid="credential-delete">
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
      <CredentialDialog
        open={dialog !== null}
        editing={dialog?.editing ?? null}
        onClose={() => setDialog(null)}
        onSaved={(c) => {
          toast(dialog?.editing ? `Saved ${c.name}` : `Created ${c.name}`);
          list.reload();
        }}
      />
      <DeleteCredentialDialog
        credential={deleting}
        onClose={() => setDeleting(null)}
        onDeleted={(c) => {
          toast(`Deleted ${c.name}`);
          list.reload();
        }}
      />
    </div>
  );
}

/**
 * Deleting asks first; when pipelines use the credential the server answers 409 naming them, and
 * the dialog shows them with a "Delete anyway" (their steps will not save until changed).
 */
function DeleteCredentialDialog({
  credential,
  onClose,
  onDeleted,
}: {
  credential: Credential | null;
  onClose: () => void;
  onDeleted: (c: Credential) => void;
}) {
  const [usedBy, setUsedBy] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const close = () => {
    setUsedBy(null);
    setError(null);
    onClose();
  };
  const confirm = async () => {
    if (!credential) return;
    setBusy(true);
    setError(null);
    try {
      await deleteCredential(credential.id, usedBy !== null);
      close();
      onDeleted(credential);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) setUsedBy(pipelineNames(err.details.used_by));
      else setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      open={credential !== null}
      title={usedBy ? 'Credential in use' : 'Delete credential?'}
      onClose={close}
      onSubmit={() => void confirm()}
      testId="credential-delete-dialog"
      footer={
        <>
          <button type="button" className="btn" onClick={close}>
            Cancel
          </button>
          <button type="submit" className="btn btn-danger solid" disabled={busy} data-testid="credential-delete-confirm" autoFocus>
            {usedBy ? 'Delete anyway' : 'Delete'}
          </button>
        </>
      }
    >
      {usedBy ? (
        <div data-testid="credential-in-use">
          <p>
            <strong>{credential?.name}</strong> is used by these pipelines:
          </p>
          <ul>
            {usedBy.map((name) => (
              <li key={name}>{name}</li>
            ))}
          </ul>
          <p>Delete it anyway? Their steps fail to find it, and the pipelines cannot be saved until they name another credential.</p>
        </div>
      ) : (
        <p>
          Delete <strong>{credential?.name}</strong>? Its value is gone for good.
        </p>
      )}
      {error && <div className="field-error">{error}</div>}
    </Dialog>
  );
}

/** The 409's `used_by` entries arrive as JSON text of {id, name} (error details are lists of strings in the client). */
function pipelineNames(entries: string[] | undefined): string[] {
  return (entries ?? []).map((entry) => {
    try {
      const parsed = JSON.parse(entry) as { name?: unknown };
      return typeof parsed.name === 'string' ? parsed.name : entry;
    } catch {
      return entry;
    }
  });
}
