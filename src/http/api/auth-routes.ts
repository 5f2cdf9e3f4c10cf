import { Type } from 'typebox';
import type { App } from '../server.js';
import type { ApiDeps } from './deps.js';
import { LoginBody, LoginResponse, RefreshBody, TokenPairResponse } from '../schemas/users.js';
import { errorResponses } from '../schemas/common.js';

export function authRoutes(app: App, { auth }: ApiDeps) {
  app.post(
    '/api/auth/login/',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Log in and get an access and a refresh token',
        body: LoginBody,
        response: { 200: LoginResponse, ...errorResponses(400, 401, 429) },
      },
    },
    async (request) =>
      auth.login({ username: request.body.username, password: request.body.password, client: request.ip, userAgent: request.headers['user-agent'] ?? null }),
  );

  app.post(
    '/api/auth/refresh/',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token for a new pair (the old one is rotated out)',
        body: RefreshBody,
        response: { 200: TokenPairResponse, ...errorResponses(400, 401) },
      },
    },
    async (request) => auth.refresh(request.body.refresh),
  );

  app.post(
    '/api/auth/logout/',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Log out: revoke a refresh token and the rest of its session (its rotated family)',
        body: RefreshBody,
        response: { 204: Type.Null(), ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      await auth.logout(request.body.refresh);
      return reply.code(204).send(null);
    },
  );
}
