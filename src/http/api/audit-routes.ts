/**
 * The audit log, read-only: a page of events (newest first, keyed by `cursor`) or every matching
 * event as JSON lines, streamed. There is no route that changes or deletes an event (405).
 */
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { App } from '../server.js';
import type { ApiDeps } from './deps.js';
import { currentUser } from '../auth-hook.js';
import { errorResponses } from '../schemas/common.js';
import { AuditPageSchema, AuditQuery } from '../schemas/audit.js';
import type { AuditEvent, AuditFilter } from '../../store/audit-events-repository.js';
import type { Static } from 'typebox';

type Query = Static<typeof AuditQuery>;

export function auditRoutes(app: App, { audit }: ApiDeps) {
  app.get(
    '/api/audit-events/',
    {
      schema: {
        tags: ['audit'],
        summary:
          "The audit log (admins; maintainers and owners: their projects' events): filter by actor, project, target, action and time; ?format=jsonl exports JSON lines",
        querystring: AuditQuery,
        response: { 200: AuditPageSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const readable = await audit.readableBy(currentUser(request), q.project);
      const filter: AuditFilter = { ...toFilter(q), ...readable };
      if (wantsJsonLines(request, q)) {
        const lines = Readable.from(jsonLines(audit.stream(filter)));
        return (
          reply
            .header('Content-Type', 'application/x-ndjson; charset=utf-8')
            .header('Content-Disposition', 'attachment; filename="audit-events.jsonl"')
            // A stream is sent as is (the 200 schema describes the JSON page, not this export).
            .send(lines as never)
        );
      }
      const results = await audit.list(filter, q.page_size + 1);
      const more = results.length > q.page_size;
      const page = more ? results.slice(0, q.page_size) : results;
      return { next: more ? nextUrl(request, page[page.length - 1]!.id) : null, results: page };
    },
  );
}

function toFilter(q: Query): AuditFilter {
  const filter: AuditFilter = {};
  if (q.actor !== undefined) {
    if (/^\d+$/.test(q.actor)) filter.actorId = Number(q.actor);
    else filter.actorUsername = q.actor;
  }
  if (q.project !== undefined) filter.projectId = q.project;
  if (q.target_type !== undefined) filter.targetType = q.target_type;
  if (q.target_id !== undefined) filter.targetId = q.target_id;
  if (q.action !== undefined) filter.action = q.action;
  if (q.since !== undefined) filter.since = new Date(q.since).toISOString();
  if (q.until !== undefined) filter.until = new Date(q.until).toISOString();
  if (q.cursor !== undefined) filter.before = q.cursor;
  return filter;
}

const wantsJsonLines = (request: FastifyRequest, q: Query) =>
  q.format === 'jsonl' || (q.format === undefined && /application\/x-ndjson/i.test(request.headers.accept ?? ''));

async function* jsonLines(events: AsyncIterable<AuditEvent>): AsyncGenerator<string> {
  for await (const event of events) yield JSON.stringify(event) + '\n';
}

function nextUrl(request: FastifyRequest, lastId: number): string {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  url.searchParams.set('cursor', String(lastId));
  return url.toString();
}
