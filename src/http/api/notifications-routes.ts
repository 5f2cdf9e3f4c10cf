/** Notification channels: where a project's run outcomes and approval requests are sent, and their delivery log. */
import { Type } from 'typebox';
import type { App } from '../server.js';
import { currentUser } from '../auth-hook.js';
import { errorResponses, IdParams, pageOf, PageQuery } from '../schemas/common.js';
import { ChannelBody, ChannelListQuery, ChannelSchema, NotificationDeliverySchema } from '../schemas/notifications.js';
import { pageEnvelope, pageWindow } from '../paging.js';
import type { ChannelInput, ChannelsService } from '../../services/notifications/channels-service.js';
import type { NotificationDelivery } from '../../store/notifications-repository.js';

/** The payload as the schema's open object. */
const shown = (d: NotificationDelivery) => ({ ...d, payload: d.payload as unknown as Record<string, unknown> });

const PageOnly = Type.Object(PageQuery, { additionalProperties: false });
const TAGS = ['notifications'];

export const notificationsRoutes = (channels: ChannelsService) => (app: App) => {
  app.get(
    '/api/notification-channels/',
    {
      schema: {
        tags: TAGS,
        summary: "Notification channels of the caller's projects (secrets never shown)",
        querystring: ChannelListQuery,
        response: { 200: pageOf(ChannelSchema), ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const q = request.query;
      const { total, items } = await channels.list(currentUser(request), q.project ? { project: q.project } : {}, pageWindow(q));
      return pageEnvelope(request, q, total, items);
    },
  );

  app.post(
    '/api/notification-channels/',
    {
      schema: {
        tags: TAGS,
        summary: 'Create a notification channel (maintainers and owners)',
        body: ChannelBody,
        response: { 201: ChannelSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => reply.code(201).send(await channels.create(currentUser(request), request.body as ChannelInput)),
  );

  app.get(
    '/api/notification-channels/:id/',
    { schema: { tags: TAGS, summary: 'A notification channel', params: IdParams, response: { 200: ChannelSchema, ...errorResponses(400, 401, 404) } } },
    async (request) => channels.get(currentUser(request), request.params.id),
  );

  app.put(
    '/api/notification-channels/:id/',
    {
      schema: {
        tags: TAGS,
        summary: 'Replace a notification channel (absent fields take their defaults; an absent secret is kept)',
        params: IdParams,
        body: ChannelBody,
        response: { 200: ChannelSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => channels.update(currentUser(request), request.params.id, request.body as ChannelInput),
  );

  app.delete(
    '/api/notification-channels/:id/',
    {
      schema: {
        tags: TAGS,
        summary: 'Delete a notification channel and its delivery log',
        params: IdParams,
        response: { 204: { type: 'null' }, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await channels.delete(currentUser(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/notification-channels/:id/test/',
    {
      schema: {
        tags: TAGS,
        summary: 'Send a test notification now; answers the delivery with its first attempt (retried in the background if that failed and may succeed later)',
        params: IdParams,
        response: { 200: NotificationDeliverySchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => shown(await channels.test(currentUser(request), request.params.id)),
  );

  app.get(
    '/api/notification-channels/:id/deliveries/',
    {
      schema: {
        tags: TAGS,
        summary: "A channel's deliveries, newest first, each with every attempt and its answer",
        params: IdParams,
        querystring: PageOnly,
        response: { 200: pageOf(NotificationDeliverySchema), ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const { total, items } = await channels.deliveries(currentUser(request), request.params.id, pageWindow(request.query));
      return pageEnvelope(request, request.query, total, items.map(shown));
    },
  );
};
