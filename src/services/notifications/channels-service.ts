/**
 * Notification channel use cases: list, read, create, replace, delete, send a test, read the
 * delivery log. Reading is the project's `read`; changing a channel or sending through it is
 * `manage_notifications` (maintainers and owners). Every change is written with its audit event
 * in one transaction. A channel's secret (webhook signing secret, Slack webhook URL, SMTP
 * password) is write-only: it is sealed, never returned, and audited as `******`.
 */
import { randomUUID } from 'node:crypto';
import { conflict, notFound, validationError, type ErrorDetails } from '../../domain/errors.js';
import type { Actor } from '../../domain/permissions.js';
import { auditDiff, Redacted, type AuditTarget } from '../../domain/audit.js';
import { isMetadataHost } from '../../domain/metadata-address.js';
import {
  notificationUrlProblem,
  type NotificationConfig,
  type NotificationEvent,
  type NotificationKind,
  type NotificationPayload,
  type SmtpSecurity,
} from '../../domain/notifications.js';
import type { ChannelFields, NotificationChannel, NotificationDelivery, NotificationsRepository } from '../../store/notifications-repository.js';
import type { ProjectAccess } from '../projects/project-access.js';
import type { DefaultProject } from '../pipelines-service.js';
import { entry, type AuditLog } from '../audit/audit-log.js';
import { nowIso } from '../../store/time.js';

/** A create or a replace, as the API takes it. */
export interface ChannelInput {
  name: string;
  /** On create: omitted means the `default` project. A channel never moves. */
  project?: number;
  kind: NotificationKind;
  events: NotificationEvent[];
  /** Pipeline ids of the project; null or absent: every pipeline. */
  pipelines?: number[] | null;
  enabled?: boolean;
  config?: {
    url?: string;
    smtp_host?: string;
    smtp_port?: number;
    smtp_security?: SmtpSecurity;
    smtp_username?: string;
    from?: string;
    to?: string[];
  };
  /** Write-only. Absent on a replace: the stored one is kept (same kind); null: removed. */
  secret?: string | null;
}

export interface ChannelsDeps {
  notifications: NotificationsRepository;
  access: ProjectAccess;
  projects: DefaultProject;
  audit: AuditLog;
  /** Sends a delivery now (the outbox), for "send test". */
  sendNow(deliveryId: number): Promise<NotificationDelivery | null>;
  /** Tells this process' outbox a channel changed or is gone (it keeps channels for a moment). */
  channelChanged?(channelId: number): void;
}

const target = (c: Pick<NotificationChannel, 'id' | 'name'>): AuditTarget => ({ type: 'notification_channel', id: c.id, name: c.name });

const auditView = (c: Omit<ChannelFields, 'secret'>, secret: 'stored' | 'replaced' | 'none') => ({
  name: c.name,
  kind: c.kind,
  config: c.config,
  events: c.events,
  pipelines: c.pipelines,
  enabled: c.enabled,
  project_id: c.project_id,
  secret: new Redacted(secret),
});

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$|^\[?[0-9A-Fa-f:.]+\]?$/;

export class ChannelsService {
  constructor(private readonly deps: ChannelsDeps) {}

  async list(actor: Actor, filter: { project?: number }, page: { limit: number; offset: number }) {
    if (filter.project !== undefined) await this.deps.access.requireReadable(actor, filter.project);
    return this.deps.notifications.list({ ...filter, ...this.deps.access.readFilter(actor) }, page);
  }

  async get(actor: Actor, id: number): Promise<NotificationChannel> {
    return this.readable(actor, id);
  }

  async create(actor: Actor, input: ChannelInput): Promise<NotificationChannel> {
    const projectId = input.project ?? (await this.defaultProject());
    await this.deps.access.require(actor, projectId, 'manage_notifications', { what: 'Project' });
    const fields = await this.fields(projectId, input, null);
    const created = await this.deps.audit.change(async (tx, record) => {
      const made = await this.deps.notifications.in(tx).create(fields, actor.id);
      if (made)
        await record(
          entry(actor, 'notification_channel.create', target(made), auditDiff(null, auditView(fields, made.secret_set ? 'stored' : 'none')), projectId),
        );
      return made;
    });
    if (!created)
      throw conflict(`The project already has a notification channel named "${input.name}"`, { name: ['A channel of this project has this name.'] });
    // A first channel starts this process's sender at once (runtime/notification-sender.ts).
    this.deps.channelChanged?.(created.id);
    return created;
  }

  /** PUT: every field is replaced (absent optional ones take their defaults); the secret is kept unless one is given; the project stays. */
  async update(actor: Actor, id: number, input: ChannelInput): Promise<NotificationChannel> {
    const current = await this.readable(actor, id);
    await this.deps.access.require(actor, current.project_id, 'manage_notifications', { what: 'Notification channel' });
    if (input.project !== undefined && input.project !== current.project_id)
      throw validationError({ project: ['A channel stays in its project; create one in the other project instead.'] });
    const fields = await this.fields(current.project_id, input, current);
    const secretState = fields.secret === undefined ? (current.secret_set ? 'stored' : 'none') : fields.secret === null ? 'none' : 'replaced';
    const saved = await this.deps.audit.change(async (tx, record) => {
      const after = await this.deps.notifications.in(tx).update(id, fields);
      if (after && after !== 'conflict')
        await record(
          entry(
            actor,
            'notification_channel.update',
            target(after),
            auditDiff(auditView(current, current.secret_set ? 'stored' : 'none'), auditView(fields, secretState)),
            after.project_id,
          ),
        );
      return after;
    });
    if (saved === 'conflict')
      throw conflict(`The project already has a notification channel named "${input.name}"`, { name: ['A channel of this project has this name.'] });
    if (!saved) throw notFound('Notification channel');
    this.deps.channelChanged?.(id);
    return saved;
  }

  /** Its deliveries go with it. */
  async delete(actor: Actor, id: number): Promise<void> {
    const current = await this.readable(actor, id);
    await this.deps.access.require(actor, current.project_id, 'manage_notifications', { what: 'Notification channel' });
    const deleted = await this.deps.audit.change(async (tx, record) => {
      if (!(await this.deps.notifications.in(tx).delete(id))) return false;
      await record(
        entry(
          actor,
          'notification_channel.delete',
          target(current),
          auditDiff(auditView(current, current.secret_set ? 'stored' : 'none'), null),
          current.project_id,
        ),
      );
      return true;
    });
    if (!deleted) throw notFound('Notification channel');
    this.deps.channelChanged?.(id);
  }

  /**
   * Sends a test notification through the channel now and answers with the delivery and its first
   * attempt (bounded by the send timeout). A failure worth retrying is retried in the background,
   * like any delivery.
   */
  async test(actor: Actor, id: number): Promise<NotificationDelivery> {
    const channel = await this.readable(actor, id);
    await this.deps.access.require(actor, channel.project_id, 'manage_notifications', { what: 'Notification channel' });
    const at = nowIso();
    const payload: NotificationPayload = {
      event: 'test',
      occurred_at: at,
      project: { id: channel.project_id, name: await this.deps.notifications.projectName(channel.project_id) },
      pipeline: null,
      run: null,
      environment: null,
      summary: `Test notification for channel ${channel.name}, sent by ${actor.username}`,
    };
    const deliveryId = await this.deps.audit.change(async (tx, record) => {
      const made = await this.deps.notifications
        .in(tx)
        .enqueue({ channelId: channel.id, runId: null, event: 'test', occurrence: `test:${randomUUID()}`, payload, at });
      await record(entry(actor, 'notification_channel.test', target(channel), null, channel.project_id));
      return made!;
    });
    const sent = await this.deps.sendNow(deliveryId);
    return sent ?? (await this.deps.notifications.findDelivery(deliveryId))!;
  }

  async deliveries(actor: Actor, id: number, page: { limit: number; offset: number }) {
    await this.readable(actor, id);
    return this.deps.notifications.deliveries(id, page);
  }

  private async readable(actor: Actor, id: number): Promise<NotificationChannel> {
    const channel = await this.deps.notifications.findById(id);
    if (!channel) throw notFound('Notification channel');
    await this.deps.access.require(actor, channel.project_id, 'read', { what: 'Notification channel' });
    return channel;
  }

  private async defaultProject(): Promise<number> {
    const id = await this.deps.projects.defaultProjectId();
    if (id === null) throw validationError({ project: ['There is no default project; name one.'] });
    return id;
  }

  /** What to store; every problem is a 400 naming its field (a secret's value is never echoed). */
  private async fields(projectId: number, input: ChannelInput, current: NotificationChannel | null): Promise<ChannelFields> {
    const details: ErrorDetails = {};
    const c = input.config ?? {};
    const sameKind = current !== null && current.kind === input.kind;
    // Absent: kept when the kind stays (a replace), else none.
    const secret = input.secret === undefined && !sameKind ? null : input.secret;
    const willHaveSecret = secret === undefined ? current!.secret_set : secret !== null && secret !== '';
    const allowed: Record<NotificationKind, Array<keyof NotificationConfig>> = {
      webhook: ['url'],
      slack: [],
      email: ['smtp_host', 'smtp_port', 'smtp_security', 'smtp_username', 'from', 'to'],
    };
    for (const key of Object.keys(c) as Array<keyof NotificationConfig>)
      if (!allowed[input.kind].includes(key)) details[`config.${key}`] = [`A ${input.kind} channel has no ${key}.`];
    let config: NotificationConfig = {};
    switch (input.kind) {
      case 'webhook': {
        if (!c.url) details['config.url'] = ['A webhook channel needs the URL it POSTs to.'];
        else {
          const problem = notificationUrlProblem(c.url);
          if (problem) details['config.url'] = [problem];
        }
        if (!willHaveSecret) details.secret = ['A webhook channel needs a secret: deliveries are signed with it (X-AnsFlow-Signature-256).'];
        config = { url: c.url! };
        break;
      }
      case 'slack': {
        if (typeof secret === 'string') {
          const problem = notificationUrlProblem(secret);
          if (problem) details.secret = [`The Slack incoming-webhook URL: ${problem}`];
        } else if (!willHaveSecret) details.secret = ['A Slack channel needs its incoming-webhook URL (https://hooks.slack.com/services/…) as its secret.'];
        break;
      }
      case 'email': {
        const host = c.smtp_host?.trim() ?? '';
        if (!host) details['config.smtp_host'] = ['An email channel needs its SMTP server.'];
        else if (!HOST.test(host)) details['config.smtp_host'] = ['Not a host name or address.'];
        else if (isMetadataHost(host)) details['config.smtp_host'] = ['The cloud metadata address is not an SMTP server.'];
        if (!c.from || !EMAIL.test(c.from)) details['config.from'] = ['The sender address (name@example.com).'];
        if (!c.to || c.to.length === 0) details['config.to'] = ['At least one recipient.'];
        else c.to.forEach((to, i) => !EMAIL.test(to) && (details[`config.to[${i}]`] = [`Not an email address.`]));
        if (c.smtp_username && !willHaveSecret) details.secret = ['The SMTP password of the user named in config.smtp_username.'];
        config = {
          smtp_host: host,
          smtp_port: c.smtp_port ?? (c.smtp_security === 'tls' ? 465 : 587),
          smtp_security: c.smtp_security ?? 'starttls',
          ...(c.smtp_username ? { smtp_username: c.smtp_username } : {}),
          from: c.from ?? '',
          to: [...new Set(c.to ?? [])],
        };
        break;
      }
    }
    let pipelines = input.pipelines === undefined || input.pipelines === null ? null : [...new Set(input.pipelines)];
    if (pipelines) {
      const known = await this.deps.notifications.pipelinesOf(projectId, pipelines);
      // A pipeline deleted since the channel named it is dropped on a replace, not an error.
      const stale = new Set((current?.pipelines ?? []).filter((id) => !known.includes(id)));
      pipelines.forEach((id, i) => !known.includes(id) && !stale.has(id) && (details[`pipelines[${i}]`] = [`The project has no pipeline ${id}.`]));
      pipelines = pipelines.filter((id) => !stale.has(id));
      if (pipelines.length === 0 && stale.size > 0) details.pipelines = ['Every pipeline it named was deleted: name others, or none for all.'];
    }
    if (Object.keys(details).length > 0) throw validationError(details);
    return {
      project_id: projectId,
      name: input.name,
      kind: input.kind,
      config,
      events: [...new Set(input.events)],
      pipelines,
      enabled: input.enabled ?? true,
      ...(secret === undefined ? {} : { secret: secret === '' ? null : secret }),
    };
  }
}
