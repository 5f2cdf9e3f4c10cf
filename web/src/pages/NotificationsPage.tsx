/** Notification channels: where a project's run outcomes go; create, edit, send a test, read each channel's delivery log. */
import { useEffect, useState } from 'react';
import {
  createChannel,
  deleteChannel,
  listChannelDeliveries,
  listChannels,
  NOTIFICATION_EVENTS,
  testChannel,
  updateChannel,
  type Channel,
  type NotificationDelivery,
} from '../api/notifications';
import { ApiError, errorMessage } from '../api/api-error';
import { useAuth } from '../auth/AuthProvider';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Dialog, DialogButtons, FormErrorBanner } from '../components/Dialog';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback';
import { FormField, fieldAria } from '../components/FormField';
import { Pagination } from '../components/Pagination';
import { UrlPagination } from '../components/UrlPagination';
import { RelativeTime } from '../components/RelativeTime';
import { useToast } from '../components/Toasts';
import { useCanManageEnvironments } from '../delivery/use-can-manage';
import { channelBody, channelTarget, emptyChannelForm, EVENT_LABELS, formFromChannel, type ChannelForm } from '../notifications/channel-form';
import { ProjectSelect } from '../projects/ProjectField';
import { useCurrentProject } from '../projects/current-project';
import { useAsync } from '../lib/use-async';
import { positiveInt, useUrlState } from '../lib/use-url-state';

export default function NotificationsPage() {
  const { user } = useAuth();
  const toast = useToast();
  const project = useCurrentProject();
  const [query, setQuery] = useUrlState(['page', 'page_size'] as const);
  const page = positiveInt(query.page, 1);
  const pageSize = positiveInt(query.page_size, 20);
  const list = useAsync((signal) => listChannels({ page, page_size: pageSize, project }, { signal }), [page, pageSize, project]);
  // manage_notifications is given to the same roles as manage_environments (maintainers, owners, admins).
  const canManage = useCanManageEnvironments();
  const [dialog, setDialog] = useState<{ editing: Channel | null } | null>(null);
  const [deleting, setDeleting] = useState<Channel | null>(null);
  const [log, setLog] = useState<Channel | null>(null);
  const [testing, setTesting] = useState<number | null>(null);

  const sendTest = async (c: Channel) => {
    setTesting(c.id);
    try {
      const d = await testChannel(c.id);
      const last = d.attempt_log[d.attempt_log.length - 1];
      toast(
        d.outcome === 'delivered'
          ? `Test sent to ${c.name}: ${last?.status_code ?? ''} ${last?.answer ?? ''}`.trim()
          : `Test to ${c.name} ${d.outcome === 'pending' ? 'not delivered yet (will retry)' : 'failed'}: ${last?.answer ?? ''}`,
        d.outcome === 'delivered' ? 'info' : 'error',
      );
      setLog(c);
    } catch (err) {
      toast(errorMessage(err), 'error');
    } finally {
      setTesting(null);
    }
  };

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Notifications</h1>
          <p className="subtitle">Channels tell people when runs fail, are fixed or succeed, when a deployment waits for approval and when it has finished.</p>
        </div>
        {user && canManage(null) && (
          <button type="button" className="btn btn-primary" onClick={() => setDialog({ editing: null })} data-testid="new-channel">
            + New channel
          </button>
        )}
      </div>
      <div className="card">
        <ErrorBanner error={list.error} onRetry={list.reload} />
        {!list.data && list.loading && <Loading />}
        {list.data && list.data.results.length === 0 && (
          <EmptyState title="No notification channels yet">
            <p>Add a webhook, a Slack incoming webhook or an email address list.</p>
          </EmptyState>
        )}
        {list.data && list.data.results.length > 0 && (
          <div className="table-wrap">
            <table className="table" data-testid="channels-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Kind</th>
                  <th className="hide-sm">Sends to</th>
                  <th>Events</th>
                  <th className="actions">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.results.map((c) => (
                  <tr key={c.id} data-testid="channel-row" data-name={c.name}>
                    <td>
                      <span className="cell-title">{c.name}</span>
                      {!c.enabled && <span className="badge tone-warning"> disabled</span>}
                      {c.pipelines && <div className="cell-sub">pipelines {c.pipelines.join(', ')}</div>}
                    </td>
                    <td data-testid="channel-kind">{c.kind}</td>
                    <td className="hide-sm mono" data-testid="channel-target">
                      {channelTarget(c)}
                    </td>
                    <td data-testid="channel-events">{c.events.join(', ')}</td>
                    <td className="actions">
                      <div className="row-actions">
                        <button type="button" className="btn btn-sm" onClick={() => setLog(c)} data-testid="channel-log">
                          Deliveries
                        </button>{' '}
                        {canManage(c.project_id) && (
                          <>
                            <button
                              type="button"
                              className="btn btn-sm"
                              disabled={testing === c.id}
                              onClick={() => void sendTest(c)}
                              data-testid="channel-test"
                            >
                              {testing === c.id ? 'Sending…' : 'Send test'}
                            </button>{' '}
                            <button type="button" className="btn btn-sm" onClick={() => setDialog({ editing: c })} data-testid="channel-edit">
                              Edit
                            </button>{' '}
                            <button type="button" className="btn btn-sm btn-danger" onClick={() => setDeleting(c)} data-testid="channel-delete">
                              Delete
                            </button>
                          </>
                        )}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <UrlPagination count={list.data?.count} page={page} pageSize={pageSize} setQuery={setQuery} />
      </div>
      {log && <DeliveryLog channel={log} onClose={() => setLog(null)} />}
      <ChannelDialog
        open={dialog !== null}
        editing={dialog?.editing ?? null}
        onClose={() => setDialog(null)}
        onSaved={(c) => {
          toast(dialog?.editing ? `Saved ${c.name}` : `Created ${c.name}`);
          list.reload();
        }}
      />
      <ConfirmDialog
        open={deleting !== null}
        title="Delete notification channel"
        danger
        confirmLabel="Delete"
        message={
          <p>
            Delete <strong>{deleting?.name}</strong> and its delivery log?
          </p>
        }
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await deleteChannel(deleting.id);
          toast(`Deleted ${deleting.name}`);
          if (log?.id === deleting.id) setLog(null);
          list.reload();
        }}
      />
    </div>
  );
}

/** A channel's deliveries, newest first, each attempt with its answer; refreshed while any is pending. */
function DeliveryLog({ channel, onClose }: { channel: Channel; onClose: () => void }) {
  const [page, setPage] = useState(1);
  const log = useAsync((signal) => listChannelDeliveries(channel.id, { page, page_size: 10 }, { signal }), [channel.id, page]);
  const pending = log.data?.results.some((d) => d.outcome === 'pending') ?? false;
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(log.reload, 2000);
    return () => clearInterval(timer);
  }, [pending, log.reload]);
  return (
    <div className="card" data-testid="delivery-log">
      <div className="card-head row">
        <h2>
          Deliveries of <span className="mono">{channel.name}</span>
        </h2>
        <div className="spacer" />
        <button type="button" className="btn btn-sm" onClick={log.reload} data-testid="delivery-log-refresh">
          Refresh
        </button>{' '}
        <button type="button" className="btn btn-sm" onClick={onClose}>
          Close
        </button>
      </div>
      <ErrorBanner error={log.error} onRetry={log.reload} />
      {!log.data && log.loading && <Loading />}
      {log.data && log.data.results.length === 0 && <EmptyState title="Nothing sent yet" />}
      {log.data && log.data.results.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th>Event</th>
                <th>Outcome</th>
                <th>Attempts and answers</th>
                <th className="hide-sm">When</th>
              </tr>
            </thead>
            <tbody>
              {log.data.results.map((d) => (
                <DeliveryRow key={d.id} delivery={d} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {log.data && log.data.count > 10 && <Pagination page={page} pageSize={10} count={log.data.count} onPage={setPage} />}
    </div>
  );
}

const TONE = { delivered: 'tone-success', failed: 'tone-danger', pending: 'tone-warning' } as const;

function DeliveryRow({ delivery: d }: { delivery: NotificationDelivery }) {
  return (
    <tr data-testid="delivery-row" data-outcome={d.outcome} data-event={d.event}>
      <td>
        <div className="cell-title">{d.event}</div>
        {typeof d.payload.summary === 'string' && <div className="cell-sub">{d.payload.summary}</div>}
      </td>
      <td>
        <span className={`badge ${TONE[d.outcome]}`} data-testid="delivery-outcome">
          {d.outcome}
        </span>
        {d.outcome === 'pending' && d.attempts > 0 && (
          <div className="cell-sub">
            retry <RelativeTime iso={d.next_attempt_at} />
          </div>
        )}
      </td>
      <td>
        <ol style={{ margin: 0, paddingLeft: '1.2em' }} data-testid="delivery-attempts">
          {d.attempt_log.map((a) => (
            <li key={a.attempt} data-testid="delivery-attempt">
              <span className="mono">{a.status_code ?? '—'}</span> {a.result} in {a.duration_ms} ms: <span className="mono">{a.answer}</span>
            </li>
          ))}
        </ol>
      </td>
      <td className="hide-sm">
        <RelativeTime iso={d.created_at} />
      </td>
    </tr>
  );
}

interface ChannelDialogProps {
  open: boolean;
  editing: Channel | null;
  onClose: () => void;
  onSaved: (channel: Channel) => void;
}

function ChannelDialog({ open, editing, onClose, onSaved }: ChannelDialogProps) {
  const currentProject = useCurrentProject();
  const [form, setForm] = useState<ChannelForm>(() => emptyChannelForm());
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!open) return;
    setForm(editing ? formFromChannel(editing) : emptyChannelForm(currentProject));
    setErrors({});
    setFormError(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the header's project when the dialog opens, not later
  }, [open, editing]);

  const set = (patch: Partial<ChannelForm>) => setForm((f) => ({ ...f, ...patch }));
  const submit = async () => {
    const { body, errors: clientErrors } = channelBody(form, editing !== null);
    if (Object.keys(clientErrors).length > 0) {
      setErrors(clientErrors);
      return;
    }
    setBusy(true);
    setErrors({});
    setFormError(null);
    try {
      const saved = editing ? await updateChannel(editing.id, body) : await createChannel(body);
      onClose();
      onSaved(saved);
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.details).length > 0) setErrors(err.details);
      setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const text = (id: string, field: keyof ChannelForm, path: string, label: string, hint: string | null, type = 'text') => (
    <FormField id={id} label={label} hint={hint} errors={errors[path]} errorPath={path}>
      <input
        className="input"
        autoComplete="off"
        type={type}
        {...fieldAria(id, errors[path], hint)}
        value={String(form[field])}
        onChange={(e) => set({ [field]: e.target.value } as Partial<ChannelForm>)}
        data-testid={id}
      />
    </FormField>
  );
  const secretHint =
    (form.kind === 'webhook'
      ? 'Deliveries are signed with it: X-AnsFlow-Signature-256: sha256=HMAC of the body.'
      : form.kind === 'slack'
        ? 'The incoming-webhook URL (https://hooks.slack.com/services/…): it is the token, so it is kept secret.'
        : 'The SMTP password of the user above.') + (editing?.secret_set ? ' Stored; leave empty to keep it.' : ' Never shown again.');

  return (
    <Dialog
      open={open}
      wide
      title={editing ? `Edit channel ${editing.name}` : 'New notification channel'}
      onClose={onClose}
      onSubmit={() => void submit()}
      testId="channel-dialog"
      footer={<DialogButtons onCancel={onClose} busy={busy} label={editing ? 'Save' : 'Create channel'} testId="channel-submit" />}
    >
      <FormErrorBanner message={formError} testId="channel-form-error" />
      <div className="form-grid">
        {text('channel-name', 'name', 'name', 'Name', null)}
        {!editing && (
          <FormField id="channel-project" label="Project" errors={errors.project} errorPath="project" hint="A channel never moves to another project.">
            <ProjectSelect id="channel-project" value={form.project} onChange={(project) => set({ project })} testId="channel-project" />
          </FormField>
        )}
        <FormField id="channel-kind" label="Kind" errors={errors.kind} errorPath="kind">
          <select
            className="select"
            {...fieldAria('channel-kind', errors.kind)}
            value={form.kind}
            onChange={(e) => set({ kind: e.target.value as ChannelForm['kind'] })}
            data-testid="channel-kind-select"
          >
            <option value="webhook">webhook: signed JSON</option>
            <option value="slack">slack: incoming webhook</option>
            <option value="email">email: SMTP</option>
          </select>
        </FormField>
        {form.kind === 'webhook' && text('channel-url', 'url', 'config.url', 'URL', 'http or https; the JSON payload is POSTed here.')}
        {form.kind === 'email' && (
          <>
            {text('channel-smtp-host', 'smtpHost', 'config.smtp_host', 'SMTP server', null)}
            {text('channel-smtp-port', 'smtpPort', 'config.smtp_port', 'Port', 'Default 587 (465 with TLS).')}
            <FormField id="channel-smtp-security" label="Security" errors={errors['config.smtp_security']} errorPath="config.smtp_security">
              <select
                className="select"
                {...fieldAria('channel-smtp-security', errors['config.smtp_security'])}
                value={form.smtpSecurity}
                onChange={(e) => set({ smtpSecurity: e.target.value as ChannelForm['smtpSecurity'] })}
                data-testid="channel-smtp-security"
              >
                <option value="starttls">STARTTLS (required)</option>
                <option value="tls">TLS from the start</option>
                <option value="none">none (trusted relay only)</option>
              </select>
            </FormField>
            {text('channel-smtp-username', 'smtpUsername', 'config.smtp_username', 'SMTP user', 'Empty: no login.')}
            {text('channel-from', 'from', 'config.from', 'From', null)}
            {text('channel-to', 'to', 'config.to', 'To', 'Addresses, separated by commas.')}
          </>
        )}
        {text(
          'channel-secret',
          'secret',
          'secret',
          form.kind === 'slack' ? 'Slack webhook URL' : form.kind === 'email' ? 'SMTP password' : 'Signing secret',
          secretHint,
          'password',
        )}
        <fieldset className="field full">
          <legend className="field-label">Events</legend>
          <div className="row wrap">
            {NOTIFICATION_EVENTS.map((event) => (
              <label key={event} className="check">
                <input
                  type="checkbox"
                  checked={form.events.includes(event)}
                  onChange={(e) => set({ events: e.target.checked ? [...form.events, event] : form.events.filter((x) => x !== event) })}
                  data-testid={`channel-event-${event}`}
                />{' '}
                {EVENT_LABELS[event]}
              </label>
            ))}
          </div>
          {errors.events && <div className="field-error">{errors.events.join(' ')}</div>}
        </fieldset>
        {text('channel-pipelines', 'pipelines', 'pipelines', 'Pipelines', 'Pipeline ids, separated by commas; empty: every pipeline of the project.')}
        <label className="check full">
          <input type="checkbox" checked={form.enabled} onChange={(e) => set({ enabled: e.target.checked })} data-testid="channel-enabled" /> Enabled
        </label>
      </div>
    </Dialog>
  );
}
