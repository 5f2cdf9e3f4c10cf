/** Projects and their members; every decision is the permission policy's (domain/permissions.ts). */
import type { App } from '../server.js';
import type { ApiDeps } from './deps.js';
import { currentUser } from '../auth-hook.js';
import { errorResponses, IdParams, pageOf } from '../schemas/common.js';
import { pageEnvelope, pageWindow } from '../paging.js';
import { MemberAddBody, MemberParams, MemberRoleBody, MemberSchema, ProjectBody, ProjectListQuery, ProjectSchema } from '../schemas/projects.js';

export function projectsRoutes(app: App, { projects }: ApiDeps) {
  const tags = ['projects'];

  app.get(
    '/api/projects/',
    {
      schema: {
        tags,
        summary: 'The projects the caller is a member of (all for an admin), with the caller’s role',
        querystring: ProjectListQuery,
        response: { 200: pageOf(ProjectSchema), ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const q = request.query;
      const { total, items } = await projects.list(currentUser(request), pageWindow(q), q.search);
      return pageEnvelope(request, q, total, items);
    },
  );

  app.post(
    '/api/projects/',
    {
      schema: {
        tags,
        summary: 'Create a project (admins and developers); the creator becomes its owner',
        body: ProjectBody,
        response: { 201: ProjectSchema, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => reply.code(201).send(await projects.create(currentUser(request), request.body)),
  );

  app.get(
    '/api/projects/:id/',
    { schema: { tags, summary: 'A project', params: IdParams, response: { 200: ProjectSchema, ...errorResponses(400, 401, 404) } } },
    async (request) => projects.get(currentUser(request), request.params.id),
  );

  app.put(
    '/api/projects/:id/',
    {
      schema: {
        tags,
        summary: 'Rename or describe a project (owners)',
        params: IdParams,
        body: ProjectBody,
        response: { 200: ProjectSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => projects.update(currentUser(request), request.params.id, request.body),
  );

  app.delete(
    '/api/projects/:id/',
    {
      schema: {
        tags,
        summary: 'Delete a project (owners); 409 while it holds pipelines, credentials or unfinished runs',
        params: IdParams,
        response: { 204: { type: 'null' }, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await projects.delete(currentUser(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/projects/:id/members/',
    {
      schema: {
        tags,
        summary: "A project's members and their roles",
        params: IdParams,
        response: { 200: { type: 'array', items: MemberSchema }, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => projects.members(currentUser(request), request.params.id),
  );

  app.post(
    '/api/projects/:id/members/',
    {
      schema: {
        tags,
        summary: 'Add a member (or change the role of one): owners any role, maintainers up to maintainer',
        params: IdParams,
        body: MemberAddBody,
        response: { 201: MemberSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => reply.code(201).send(await projects.addMember(currentUser(request), request.params.id, request.body)),
  );

  app.put(
    '/api/projects/:id/members/:user_id/',
    {
      schema: {
        tags,
        summary: "Change a member's role (nobody raises their own; a project keeps one owner)",
        params: MemberParams,
        body: MemberRoleBody,
        response: { 200: MemberSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => projects.changeMember(currentUser(request), request.params.id, request.params.user_id, request.body.role),
  );

  app.delete(
    '/api/projects/:id/members/:user_id/',
    {
      schema: {
        tags,
        summary: 'Remove a member (any member may leave; a project keeps one owner)',
        params: MemberParams,
        response: { 204: { type: 'null' }, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await projects.removeMember(currentUser(request), request.params.id, request.params.user_id);
      return reply.code(204).send(null);
    },
  );
}
