/** Admin: users and roles. List, create, change role, activate / deactivate. */
import { useState } from 'react';
import { createUser, listUsers, updateUser, type NewUser } from '../api/endpoints';
import { ApiError, errorMessage } from '../api/api-error';
import type { Role, User } from '../api/types';
import { useAuth } from '../auth/AuthProvider';
import { Dialog } from '../components/Dialog';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback';
import { FormField, fieldAria } from '../components/FormField';
import { UrlPagination } from '../components/UrlPagination';
import { RelativeTime } from '../components/RelativeTime';
import { useToast } from '../components/Toasts';
import { useAsync } from '../lib/use-async';
import { positiveInt, useUrlState } from '../lib/use-url-state';

const ROLES: Role[] = ['admin', 'developer', 'viewer'];
const ROLE_HINT: Record<Role, string> = {
  admin: 'everything, including users',
  developer: 'creates pipelines, edits and runs their own, runs all',
  viewer: 'reads only',
};

export default function UsersPage() {
  const { user: me } = useAuth();
  const toast = useToast();
  const [query, setQuery] = useUrlState(['page', 'page_size'] as const);
  const page = positiveInt(query.page, 1);
  const pageSize = positiveInt(query.page_size, 20);
  const list = useAsync((signal) => listUsers({ page, page_size: pageSize }, { signal }), [page, pageSize]);
  const [creating, setCreating] = useState(false);

  const change = async (u: User, patch: Partial<Pick<User, 'role' | 'is_active'>>) => {
    try {
      const updated = await updateUser(u.id, patch);
      list.setData((p) => (p ? { ...p, results: p.results.map((x) => (x.id === u.id ? { ...x, ...updated } : x)) } : p));
      toast(`Updated ${u.username}`);
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
  };

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Users</h1>
          <p className="subtitle">Who can sign in, and what they may do.</p>
        </div>
        <button type="button" className="btn btn-primary" onClick={() => setCreating(true)} data-testid="new-user">
          + New user
        </button>
      </div>
      <div className="card">
        <ErrorBanner error={list.error} onRetry={list.reload} />
        {!list.data && list.loading && <Loading />}
        {list.data && list.data.results.length === 0 && <EmptyState title="No users" />}
        {list.data && list.data.results.length > 0 && (
          <div className="table-wrap">
            <table className="table" data-testid="users-table">
              <thead>
                <tr>
                  <th>User</th>
                  <th>Role</th>
                  <th className="hide-sm">Joined</th>
                  <th>Status</th>
                  <th className="actions">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.results.map((u) => {
                  const self = u.id === me?.id;
                  return (
                    <tr key={u.id} data-testid="user-row" data-username={u.username}>
                      <td>
                        <div className="cell-title">
                          {u.username} {self && <span className="chip">you</span>}
                        </div>
                        <div className="cell-sub">{[u.first_name, u.last_name].filter(Boolean).join(' ') || u.email || '—'}</div>
                      </td>
                      <td>
                        <select
                          className="select input-sm"
                          style={{ width: 'auto' }}
                          aria-label={`Role of ${u.username}`}
                          value={u.role}
                          disabled={self}
                          onChange={(e) => void change(u, { role: e.target.value as Role })}
                          data-testid="user-role"
                        >
                          {ROLES.map((r) => (
                            <option key={r} value={r}>
                              {r}
                            </option>
                          ))}
                        </select>
                      </td>
                      <td className="hide-sm muted">
                        <RelativeTime iso={u.date_joined} />
                      </td>
                      <td>{u.is_active ? <span className="badge tone-success">active</span> : <span className="badge">deactivated</span>}</td>
                      <td className="actions">
                        {!self && (
                          <button
                            type="button"
                            className={`btn btn-sm ${u.is_active ? 'btn-danger' : ''}`}
                            onClick={() => void change(u, { is_active: !u.is_active })}
                            data-testid="user-toggle-active"
                          >
                            {u.is_active ? 'Deactivate' : 'Activate'}
                          </button>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        <UrlPagination count={list.data?.count} page={page} pageSize={pageSize} setQuery={setQuery} />
      </div>
      <CreateUserDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(u) => {
          toast(`Created ${u.username}`);
          list.reload();
        }}
      />
    </div>
  );
}

function CreateUserDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (u: User) => void }) {
  const empty: NewUser = { username: '', password: '', email: '', first_name: '', last_name: '', role: 'developer' };
  const [form, setForm] = useState<NewUser>(empty);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<NewUser>) => setForm((f) => ({ ...f, ...patch }));

  const submit = async () => {
    const local: Record<string, string[]> = {};
    if (form.username.trim() === '') local.username = ['Username is required'];
    if (form.password.length < 8) local.password = ['At least 8 characters'];
    if (Object.keys(local).length > 0) {
      setErrors(local);
      return;
    }
    setBusy(true);
    setErrors({});
    setFormError(null);
    try {
      const body: NewUser = { username: form.username.trim(), password: form.password, role: form.role };
      if (form.email) body.email = form.email;
      if (form.first_name) body.first_name = form.first_name;
      if (form.last_name) body.last_name = form.last_name;
      const created = await createUser(body);
      setForm(empty);
      onClose();
      onCreated(created);
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.details).length > 0) setErrors(err.details);
      else if (err instanceof ApiError && err.code === 'RESOURCE_CONFLICT') setErrors({ username: [err.message] });
      else setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const field = (name: keyof NewUser, label: string, type = 'text', required = false) => (
    <FormField id={`nu-${name}`} label={label} required={required} errors={errors[name]} errorPath={name}>
      <input
        className="input"
        type={type}
        autoComplete={type === 'password' ? 'new-password' : 'off'}
        {...fieldAria(`nu-${name}`, errors[name])}
        value={String(form[name] ?? '')}
        onChange={(e) => set({ [name]: e.target.value } as Partial<NewUser>)}
        data-testid={`new-user-${name}`}
      />
    </FormField>
  );

  return (
    <Dialog
      open={open}
      title="New user"
      onClose={onClose}
      onSubmit={() => void submit()}
      testId="new-user-dialog"
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="new-user-submit">
            Create user
          </button>
        </>
      }
    >
      {formError && <div className="banner banner-error">{formError}</div>}
      <div className="form-grid">
        {field('username', 'Username', 'text', true)}
        {field('password', 'Password', 'password', true)}
        {field('first_name', 'First name')}
        {field('last_name', 'Last name')}
        <div className="full">{field('email', 'Email', 'email')}</div>
        <FormField id="nu-role" label="Role" required errors={errors.role} errorPath="role" hint={ROLE_HINT[form.role]} className="full">
          <select
            className="select"
            {...fieldAria('nu-role', errors.role, 'x')}
            value={form.role}
            onChange={(e) => set({ role: e.target.value as Role })}
            data-testid="new-user-role"
          >
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </FormField>
      </div>
    </Dialog>
  );
}
