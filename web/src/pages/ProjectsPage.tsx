/** Projects: list, create, rename, delete, and each project's members with their roles. */
import { useState } from 'react';
import { ApiError, errorMessage } from '../api/api-error';
import {
  addMember,
  canManageMembers,
  changeMember,
  createProject,
  deleteProject,
  grantableRoles,
  listMembers,
  listProjects,
  removeMember,
  updateProject,
  type Project,
  type ProjectRole,
} from '../api/projects';
import { useAuth } from '../auth/AuthProvider';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Dialog } from '../components/Dialog';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback';
import { FormField, fieldAria } from '../components/FormField';
import { UrlPagination } from '../components/UrlPagination';
import { useToast } from '../components/Toasts';
import { useAsync } from '../lib/use-async';
import { positiveInt, useUrlState } from '../lib/use-url-state';
import { setCurrentProject } from '../projects/current-project';
import { projectsChanged } from '../projects/use-projects';
import '../projects/projects.css';

export default function ProjectsPage() {
  const { user } = useAuth();
  const toast = useToast();
  const isAdmin = user?.role === 'admin';
  const [query, setQuery] = useUrlState(['page', 'page_size'] as const);
  const page = positiveInt(query.page, 1);
  const pageSize = positiveInt(query.page_size, 20);
  const list = useAsync((signal) => listProjects({ page, page_size: pageSize }, { signal }), [page, pageSize]);
  const [editing, setEditing] = useState<{ project: Project | null } | null>(null);
  const [deleting, setDeleting] = useState<Project | null>(null);
  const [open, setOpen] = useState<Project | null>(null);

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Projects</h1>
          <p className="subtitle">Pipelines, credentials and runs belong to a project; its members see them, with the rights of their role.</p>
        </div>
        {user?.role !== 'viewer' && (
          <button type="button" className="btn btn-primary" onClick={() => setEditing({ project: null })} data-testid="new-project">
            + New project
          </button>
        )}
      </div>
      <div className="card">
        <ErrorBanner error={list.error} onRetry={list.reload} />
        {!list.data && list.loading && <Loading />}
        {list.data && list.data.results.length === 0 && <EmptyState title="No projects" />}
        {list.data && list.data.results.length > 0 && (
          <div className="table-wrap">
            <table className="table" data-testid="projects-table">
              <thead>
                <tr>
                  <th>Project</th>
                  <th>Your role</th>
                  <th className="actions">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.results.map((p) => (
                  <tr key={p.id} data-testid="project-row" data-name={p.name}>
                    <td>
                      <div className="cell-title">{p.name}</div>
                      <div className="cell-sub">{p.description || '—'}</div>
                    </td>
                    <td>{p.my_role ? <span className="chip">{p.my_role}</span> : <span className="muted">admin</span>}</td>
                    <td className="actions">
                      <button type="button" className="btn btn-sm" onClick={() => setOpen(p)} data-testid="project-members">
                        Members
                      </button>
                      <button type="button" className="btn btn-sm" onClick={() => setCurrentProject(p.id)} data-testid="project-switch">
                        Show only this
                      </button>
                      {(isAdmin || p.my_role === 'owner') && (
                        <>
                          <button type="button" className="btn btn-sm" onClick={() => setEditing({ project: p })} data-testid="project-edit">
                            Edit
                          </button>
                          {p.name !== 'default' && (
                            <button type="button" className="btn btn-sm btn-danger" onClick={() => setDeleting(p)} data-testid="project-delete">
                              Delete
                            </button>
                          )}
                        </>
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
      {open && <MembersCard key={open.id} project={open} isAdmin={isAdmin} myId={user?.id ?? 0} onClose={() => setOpen(null)} />}
      <ProjectDialog
        editing={editing}
        onClose={() => setEditing(null)}
        onSaved={(p, created) => {
          toast(created ? `Created ${p.name}` : `Saved ${p.name}`);
          list.reload();
          projectsChanged();
        }}
      />
      <ConfirmDialog
        open={deleting !== null}
        title="Delete project"
        message={`Delete project "${deleting?.name ?? ''}"? Its pipelines and credentials must be deleted or moved first; the history of its deleted pipelines goes with it.`}
        confirmLabel="Delete"
        danger
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          await deleteProject(deleting!.id);
          toast(`Deleted ${deleting!.name}`);
          list.reload();
          projectsChanged();
        }}
      />
    </div>
  );
}

function ProjectDialog({
  editing,
  onClose,
  onSaved,
}: {
  editing: { project: Project | null } | null;
  onClose: () => void;
  onSaved: (p: Project, created: boolean) => void;
}) {
  const current = editing?.project ?? null;
  const [form, setForm] = useState({ name: '', description: '' });
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [shownFor, setShownFor] = useState<typeof editing>(null);
  if (editing !== shownFor) {
    setShownFor(editing);
    setForm({ name: current?.name ?? '', description: current?.description ?? '' });
    setErrors({});
    setFormError(null);
  }

  const submit = async () => {
    if (form.name.trim() === '') return setErrors({ name: ['Name is required'] });
    setBusy(true);
    try {
      const body = { name: form.name.trim(), description: form.description };
      const saved = current ? await updateProject(current.id, body) : await createProject(body);
      onClose();
      onSaved(saved, current === null);
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.details).length > 0) setErrors(err.details);
      else setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      open={editing !== null}
      title={current ? `Edit ${current.name}` : 'New project'}
      onClose={onClose}
      onSubmit={() => void submit()}
      testId="project-dialog"
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="project-save">
            {current ? 'Save' : 'Create'}
          </button>
        </>
      }
    >
      {formError && <div className="alert alert-error">{formError}</div>}
      <FormField id="project-name" label="Name" required errors={errors.name} errorPath="name">
        <input
          className="input"
          {...fieldAria('project-name', errors.name)}
          value={form.name}
          onChange={(e) => setForm((f) => ({ ...f, name: e.target.value }))}
          data-testid="project-name"
        />
      </FormField>
      <FormField id="project-description" label="Description" errors={errors.description} errorPath="description">
        <textarea
          className="input"
          {...fieldAria('project-description', errors.description)}
          value={form.description}
          onChange={(e) => setForm((f) => ({ ...f, description: e.target.value }))}
          data-testid="project-description"
        />
      </FormField>
    </Dialog>
  );
}

function MembersCard({ project, isAdmin, myId, onClose }: { project: Project; isAdmin: boolean; myId: number; onClose: () => void }) {
  const toast = useToast();
  const members = useAsync((signal) => listMembers(project.id, { signal }), [project.id]);
  const manage = canManageMembers(project.my_role, isAdmin);
  const grantable = grantableRoles(project.my_role, isAdmin);
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<ProjectRole>('developer');

  const act = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      toast(done);
      members.reload();
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
  };

  return (
    <div className="card members-card" data-testid="members-card">
      <div className="page-head">
        <h2>Members of {project.name}</h2>
        <button type="button" className="btn btn-sm" onClick={onClose}>
          Close
        </button>
      </div>
      <ErrorBanner error={members.error} onRetry={members.reload} />
      {!members.data && members.loading && <Loading />}
      {members.data && (
        <div className="table-wrap">
          <table className="table" data-testid="members-table">
            <thead>
              <tr>
                <th>User</th>
                <th>Role</th>
                <th className="actions">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {members.data.map((m) => {
                const editable = manage && m.user.id !== myId && (grantable.includes(m.role) || isAdmin);
                return (
                  <tr key={m.user.id} data-testid="member-row" data-username={m.user.username}>
                    <td>{m.user.username}</td>
                    <td>
                      <select
                        className="select input-sm"
                        style={{ width: 'auto' }}
                        aria-label={`Role of ${m.user.username}`}
                        value={m.role}
                        disabled={!editable}
                        onChange={(e) =>
                          void act(() => changeMember(project.id, m.user.id, e.target.value as ProjectRole), `${m.user.username} is now ${e.target.value}`)
                        }
                        data-testid="member-role"
                      >
                        {(editable ? grantable : [m.role]).map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td className="actions">
                      {(editable || m.user.id === myId) && (
                        <button
                          type="button"
                          className="btn btn-sm btn-danger"
                          onClick={() => void act(() => removeMember(project.id, m.user.id), `Removed ${m.user.username}`)}
                          data-testid="member-remove"
                        >
                          {m.user.id === myId ? 'Leave' : 'Remove'}
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
      {manage && (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (username.trim() === '') return;
            void act(() => addMember(project.id, username.trim(), role), `Added ${username.trim()} as ${role}`).then(() => setUsername(''));
          }}
        >
          <input
            className="input input-sm"
            placeholder="username"
            aria-label="Username to add"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            data-testid="member-username"
          />
          <select
            className="select input-sm"
            style={{ width: 'auto' }}
            aria-label="Role to grant"
            value={role}
            onChange={(e) => setRole(e.target.value as ProjectRole)}
            data-testid="member-new-role"
          >
            {grantable.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <button type="submit" className="btn btn-sm btn-primary" data-testid="member-add">
            Add member
          </button>
        </form>
      )}
    </div>
  );
}
