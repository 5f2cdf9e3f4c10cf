import type { App } from '../server.js';
import type { ApiDeps } from './deps.js';
import { currentUser } from '../auth-hook.js';
import { errorResponses, IdParams, pageOf } from '../schemas/common.js';
import { CredentialCreateBody, CredentialDeleteQuery, CredentialListQuery, CredentialSchema, CredentialUpdateBody } from '../schemas/credentials.js';
import { pageEnvelope, pageWindow } from '../paging.js';

/** Credentials: values go in, metadata comes out (the response schemas have no field for a secret). */
export function credentialsRoutes(app: App, { credentials }: ApiDeps) {
  app.get(
    '/api/credentials/',
    {
      schema: {
        tags: ['credentials'],
        summary: 'List credentials (metadata only; search in name and description, filter by kind)',
        querystring: CredentialListQuery,
        response: { 200: pageOf(CredentialSchema), ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const q = request.query;
      const { total, items } = await credentials.list(
        currentUser(request),
        { ...(q.search ? { search: q.search } : {}), ...(q.kind ? { kind: q.kind } : {}), ...(q.project ? { project: q.project } : {}) },
        pageWindow(q),
      );
      return pageEnvelope(request, q, total, items);
    },
  );

  app.post(
    '/api/credentials/',
    {
      schema: {
        tags: ['credentials'],
        summary: 'Create a credential (the secret is write-only)',
        body: CredentialCreateBody,
        response: { 201: CredentialSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => reply.code(201).send(await credentials.create(currentUser(request), request.body)),
  );

  app.get(
    '/api/credentials/:id/',
    {
      schema: {
        tags: ['credentials'],
        summary: 'A credential: metadata and the pipelines that use it',
        params: IdParams,
        response: { 200: CredentialSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => credentials.get(currentUser(request), request.params.id),
  );

  app.put(
    '/api/credentials/:id/',
    {
      schema: {
        tags: ['credentials'],
        summary: 'Replace a credential (omit the secret to keep the stored one)',
        params: IdParams,
        body: CredentialUpdateBody,
        response: { 200: CredentialSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => credentials.update(currentUser(request), request.params.id, request.body),
  );

  app.delete(
    '/api/credentials/:id/',
    {
      schema: {
        tags: ['credentials'],
        summary: 'Delete a credential (409 naming the pipelines that use it, unless force=true)',
        params: IdParams,
        querystring: CredentialDeleteQuery,
        response: { 204: { type: 'null' }, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await credentials.delete(currentUser(request), request.params.id, request.query.force === true);
      return reply.code(204).send(null);
    },
  );
}
