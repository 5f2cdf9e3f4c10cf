import { Type } from 'typebox';
import type { App } from '../server.js';
import type { ApiDeps } from './deps.js';
import { currentUser } from '../auth-hook.js';
import { permissionDenied } from '../../domain/errors.js';
import { decideGlobal } from '../../domain/permissions.js';
import { ChangePasswordBody, CreateUserBody, SetPasswordBody, UpdateMeBody, UpdateUserBody, UserSchema } from '../schemas/users.js';
import { errorResponses, IdParams, PageQuery, pageOf } from '../schemas/common.js';
import { pageEnvelope, pageWindow } from '../paging.js';

export function usersRoutes(app: App, { users }: ApiDeps) {
  const adminOnly = (request: Parameters<typeof currentUser>[0]) => {
    if (decideGlobal(currentUser(request), 'manage_users') !== 'allow') throw permissionDenied('Only administrators can manage users');
  };

  app.get(
    '/api/users/me/',
    { schema: { tags: ['users'], summary: 'The current user', response: { 200: UserSchema, ...errorResponses(401) } } },
    async (request) => currentUser(request),
  );

  app.patch(
    '/api/users/me/',
    { schema: { tags: ['users'], summary: 'Update your own profile', body: UpdateMeBody, response: { 200: UserSchema, ...errorResponses(400, 401) } } },
    async (request) => users.update(currentUser(request).id, request.body, currentUser(request)),
  );

  app.post(
    '/api/users/me/password/',
    {
      schema: {
        tags: ['users'],
        summary: 'Change your password (revokes all your tokens)',
        body: ChangePasswordBody,
        response: { 204: Type.Null(), ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      await users.setPassword(currentUser(request).id, request.body.new_password, request.body.current_password, currentUser(request));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/users/',
    {
      schema: {
        tags: ['users'],
        summary: 'List users (admin)',
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: pageOf(UserSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      adminOnly(request);
      const { total, items } = await users.list(pageWindow(request.query));
      return pageEnvelope(request, request.query, total, items);
    },
  );

  app.post(
    '/api/users/',
    {
      schema: { tags: ['users'], summary: 'Create a user (admin)', body: CreateUserBody, response: { 201: UserSchema, ...errorResponses(400, 401, 403, 409) } },
    },
    async (request, reply) => {
      adminOnly(request);
      return reply.code(201).send(await users.create(request.body, currentUser(request)));
    },
  );

  app.get(
    '/api/users/:id/',
    { schema: { tags: ['users'], summary: 'A user (admin)', params: IdParams, response: { 200: UserSchema, ...errorResponses(401, 403, 404) } } },
    async (request) => {
      adminOnly(request);
      return users.get(request.params.id);
    },
  );

  app.patch(
    '/api/users/:id/',
    {
      schema: {
        tags: ['users'],
        summary: 'Change a user: role, active, profile (admin)',
        params: IdParams,
        body: UpdateUserBody,
        response: { 200: UserSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      adminOnly(request);
      return users.update(request.params.id, request.body, currentUser(request));
    },
  );

  app.post(
    '/api/users/:id/password/',
    {
      schema: {
        tags: ['users'],
        summary: "Set a user's password (admin)",
        params: IdParams,
        body: SetPasswordBody,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      adminOnly(request);
      await users.setPassword(request.params.id, request.body.new_password, undefined, currentUser(request));
      return reply.code(204).send(null);
    },
  );
}
