/**
 * The channel dialog's state: a channel's fields as typed (recipients and pipeline ids as
 * comma-separated text, the port as text), loaded from one and turned into the request body with
 * the checks the API repeats. Errors are keyed as the API keys them (`config.url`, `secret`).
 * The secret is never loaded (the API never shows it): empty on an edit keeps the stored one.
 *
 * Pure TypeScript (no DOM, no React).
 */
import type { Channel, ChannelBody, ChannelKind, NotificationEvent, SmtpSecurity } from '../api/notifications';

export const EVENT_LABELS: Record<NotificationEvent, string> = {
  run_failed: 'Run failed',
  run_fixed: 'Run fixed (first success after a failure)',
  run_succeeded: 'Run succeeded',
  approval_requested: 'Approval requested',
  deployment_finished: 'Deployment finished',
};

export interface ChannelForm {
  name: string;
  project: number | null;
  kind: ChannelKind;
  events: NotificationEvent[];
  /** Pipeline ids, comma-separated; empty: every pipeline of the project. */
  pipelines: string;
  enabled: boolean;
  url: string;
  smtpHost: string;
  smtpPort: string;
  smtpSecurity: SmtpSecurity;
  smtpUsername: string;
  from: string;
  to: string;
  secret: string;
}

export function emptyChannelForm(project: number | null = null): ChannelForm {
  return {
    name: '',
    project,
    kind: 'webhook',
    events: ['run_failed', 'run_fixed'],
    pipelines: '',
    enabled: true,
    url: '',
    smtpHost: '',
    smtpPort: '',
    smtpSecurity: 'starttls',
    smtpUsername: '',
    from: '',
    to: '',
    secret: '',
  };
}

export function formFromChannel(c: Channel): ChannelForm {
  return {
    name: c.name,
    project: c.project_id,
    kind: c.kind,
    events: [...c.events],
    pipelines: c.pipelines?.join(', ') ?? '',
    enabled: c.enabled,
    url: c.config.url ?? '',
    smtpHost: c.config.smtp_host ?? '',
    smtpPort: c.config.smtp_port ? String(c.config.smtp_port) : '',
    smtpSecurity: c.config.smtp_security ?? 'starttls',
    smtpUsername: c.config.smtp_username ?? '',
    from: c.config.from ?? '',
    to: c.config.to?.join(', ') ?? '',
    secret: '',
  };
}

const list = (text: string) =>
  text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);

/** The body, or the problems found before asking the server. `editing`: an empty secret keeps the stored one. */
export function channelBody(form: ChannelForm, editing: boolean): { body: ChannelBody; errors: Record<string, string[]> } {
  const errors: Record<string, string[]> = {};
  if (!form.name.trim()) errors.name = ['A name.'];
  if (form.events.length === 0) errors.events = ['At least one event.'];
  const pipelineIds = list(form.pipelines).map(Number);
  if (pipelineIds.some((n) => !Number.isInteger(n) || n < 1)) errors.pipelines = ['Pipeline ids (numbers), separated by commas.'];
  const config: ChannelBody['config'] = {};
  if (form.kind === 'webhook') config.url = form.url.trim();
  if (form.kind === 'email') {
    config.smtp_host = form.smtpHost.trim();
    if (form.smtpPort.trim()) {
      const port = Number(form.smtpPort);
      if (!Number.isInteger(port) || port < 1 || port > 65535) errors['config.smtp_port'] = ['A port (1-65535).'];
      else config.smtp_port = port;
    }
    config.smtp_security = form.smtpSecurity;
    if (form.smtpUsername.trim()) config.smtp_username = form.smtpUsername.trim();
    config.from = form.from.trim();
    config.to = list(form.to);
  }
  if (!editing && form.kind !== 'email' && !form.secret) errors.secret = [form.kind === 'slack' ? 'The incoming-webhook URL.' : 'A signing secret.'];
  const body: ChannelBody = {
    name: form.name.trim(),
    kind: form.kind,
    events: form.events,
    pipelines: pipelineIds.length > 0 ? pipelineIds : null,
    enabled: form.enabled,
    config,
    ...(form.project !== null && !editing ? { project: form.project } : {}),
    ...(form.secret ? { secret: form.secret } : {}),
  };
  return { body, errors };
}

/** What a channel sends to, in a few words (never its secret). */
export function channelTarget(c: Channel): string {
  if (c.kind === 'webhook') return c.config.url ?? '';
  if (c.kind === 'slack') return c.secret_set ? 'Slack incoming webhook' : 'Slack (no URL set)';
  return `${(c.config.to ?? []).join(', ')} via ${c.config.smtp_host ?? '?'}:${c.config.smtp_port ?? ''}`;
}
