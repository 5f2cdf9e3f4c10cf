/**
 * Notifications' parts for one context, made once: the repository, the outbox (started by the
 * processes that serve the API: every one runs it, claims keep them from sending a delivery
 * twice) and the service the API's routes use. Run links start at ANSFLOW_PUBLIC_URL, else at
 * the API's own address.
 */
import type { AppContext } from './context.js';
import { NotificationsRepository } from '../store/notifications-repository.js';
import { NotificationOutbox } from '../services/notifications/notification-outbox.js';
import { ChannelsService } from '../services/notifications/channels-service.js';
import { transactor } from '../store/transaction.js';

interface NotificationParts {
  repository: NotificationsRepository;
  outbox: NotificationOutbox;
  service: ChannelsService;
  /** Starts the outbox's loop (once); run links start at `apiUrl` unless ANSFLOW_PUBLIC_URL is set. */
  start(apiUrl: string): { stop(): Promise<void> };
}

const made = new WeakMap<AppContext, NotificationParts>();

export function notificationsOf(ctx: AppContext): NotificationParts {
  let parts = made.get(ctx);
  if (parts) return parts;
  const repository = new NotificationsRepository(ctx.db.kysely, ctx.secrets);
  const deps = {
    notifications: repository,
    transaction: transactor(ctx.db.kysely),
    events: ctx.events,
    logger: ctx.logger,
    publicUrl: ctx.config.forge.publicUrl ?? `http://${ctx.config.host}:${ctx.config.apiPort}`,
    timing: ctx.config.notifications,
  };
  const outbox = new NotificationOutbox(deps);
  const service = new ChannelsService({
    notifications: repository,
    access: ctx.access,
    projects: ctx.repos.projects,
    audit: ctx.audit,
    sendNow: (id) => outbox.sendNow(id),
    channelChanged: (id) => outbox.channelChanged(id),
  });
  let started = false;
  parts = {
    repository,
    outbox,
    service,
    start(apiUrl) {
      if (!started) {
        started = true;
        deps.publicUrl = ctx.config.forge.publicUrl ?? apiUrl;
        outbox.start();
      }
      return { stop: () => outbox.stop() };
    },
  };
  made.set(ctx, parts);
  return parts;
}
