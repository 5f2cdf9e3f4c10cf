/**
 * POST /api/v1/webhooks/github and /api/v1/webhooks/gitlab. The body is read as raw bytes (the
 * signature covers the exact bytes), up to 25 MB (413 beyond), after the per-source rate limit.
 */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { App } from '../server.js';
import { errorResponses } from '../schemas/common.js';
import { receiveWebhook, type WebhookDeps } from '../../services/webhooks/receive-webhook.js';
import type { Provider } from '../../store/deliveries-repository.js';
import type { FixedWindowLimiter } from './fixed-window-limiter.js';
import { WebhookAnswerSchema } from './schemas.js';

export const WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;

const DOCS: Record<Provider, { summary: string; headers: Record<string, string> }> = {
  github: {
    summary: 'GitHub webhook (X-Hub-Signature-256 over the raw body)',
    headers: {
      'x-github-event': 'push, pull_request, ping, ...',
      'x-github-delivery': 'Delivery GUID (deduplication)',
      'x-hub-signature-256': 'sha256=<HMAC-SHA256 hex>',
    },
  },
  gitlab: {
    summary: 'GitLab webhook (X-Gitlab-Token)',
    headers: {
      'x-gitlab-event': 'Push Hook, Tag Push Hook, Merge Request Hook, ...',
      'x-gitlab-token': 'The configured secret token',
      'idempotency-key': 'Deduplication key (else X-Gitlab-Event-UUID)',
    },
  },
};

export function webhookRoutes(app: App, deps: { webhooks: WebhookDeps; limiter: FixedWindowLimiter }) {
  // An encapsulated context: only these routes get the raw-bytes parser for every content type.
  void app.register(async (child) => {
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, done) => done(null, body));
    const onRequest = async (request: FastifyRequest) => deps.limiter.take(request.ip);
    for (const provider of ['github', 'gitlab'] as const) {
      const docs = DOCS[provider];
      child.post(
        `/api/v1/webhooks/${provider}`,
        {
          bodyLimit: WEBHOOK_BODY_LIMIT,
          config: { public: true },
          onRequest,
          schema: {
            tags: ['webhooks'],
            summary: docs.summary,
            security: [],
            headers: Type.Object(
              Object.fromEntries(Object.entries(docs.headers).map(([name, description]) => [name, Type.Optional(Type.String({ description }))])),
            ),
            response: { 200: WebhookAnswerSchema, 202: WebhookAnswerSchema, ...errorResponses(400, 401, 413, 429) },
          },
        },
        async (request, reply) => {
          const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
          const answer = await receiveWebhook(deps.webhooks, { provider, headers: request.headers, body });
          return reply.code(answer.status).send(answer.body);
        },
      );
    }
  });
}
