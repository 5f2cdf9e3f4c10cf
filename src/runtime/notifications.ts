/**
 * Notifications' parts for one context, made once: the repository, the outbox (run by the
 * processes that serve the API, each in a thread of its own at the lowest priority,
 * notification-sender.ts: every one runs it, claims keep them from sending a delivery twice) and
 * the service the API's routes use. `outbox` here is this thread's, for "send test" in the
 * caller's time. Run links start at ANSFLOW_PUBLIC_URL, else at the API's own address.
 */
import type { AppContext } from './context.js';
import { NotificationsRepository } from '../store/notifications-repository.js';
import { NotificationOutbox } from '../services/notifications/notification-outbox.js';
import { ChannelsService } from '../services/notifications/channels-service.js';
import { transactor } from '../store/transaction.js';
import { startNotificationSender, type NotificationSender } from './notification-sender.js';

interface NotificationParts {
  repository: NotificationsRepository;
  outbox: NotificationOutbox;
  service: ChannelsService;
  /** Starts the outbox's loop (once, in its thread); run links start at `apiUrl` unless ANSFLOW_PUBLIC_URL is set. */
  start(apiUrl: string): { stop(): Promise<void> };
  /** The running outbox looks for due rows now. */
  wake(): void;
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
    channelChanged: (id) => {
      outbox.channelChanged(id);
      sender?.channelChanged(id);
    },
  });
  let sender: NotificationSender | null = null;
  parts = {
    repository,
    outbox,
    service,
    start(apiUrl) {
      if (!sender) {
        deps.publicUrl = ctx.config.forge.publicUrl ?? apiUrl;
        sender = startNotificationSender({
          config: ctx.config,
          events: ctx.events,
          logger: ctx.logger,
          publicUrl: deps.publicUrl,
          timing: ctx.config.notifications,
          inProcess: outbox,
          anyChannel: () => repository.anyChannel(),
        });
      }
      const running = sender;
      return { stop: () => running.stop() };
    },
    wake: () => sender?.wake(),
  };
  made.set(ctx, parts);
  return parts;
}
