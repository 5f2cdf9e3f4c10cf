/**
 * Authentication for every route of a server unless the route says `config: { public: true }`.
 * Runs at onRequest, before the body is read or validated: an anonymous caller learns nothing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { unauthenticated } from '../domain/errors.js';
import type { User } from '../store/users-repository.js';
import type { AuthService } from '../services/auth/auth-service.js';

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null;
  }
  interface FastifyContextConfig {
    public?: boolean;
  }
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/** `publicPrefixes`: route trees registered by plugins (API docs) that cannot carry `config.public`. */
export function installAuth(app: FastifyInstance<any, any, any, any, any>, auth: AuthService, publicPrefixes: string[] = []) {
  app.decorateRequest('user', null);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const url = request.routeOptions.url;
    // Only the API is guarded: the web UI's static files are public (the data behind them is not).
    if (request.routeOptions.config?.public || url === undefined || !url.startsWith('/api/') || publicPrefixes.some((p) => url.startsWith(p))) return;
    const token = bearerToken(request);
    if (!token) throw unauthenticated('Authentication credentials were not provided');
    request.user = await auth.authenticate(token);
  });
}

/** The authenticated user of a route that is not public. */
export function currentUser(request: FastifyRequest): User {
  if (!request.user) throw unauthenticated();
  return request.user;
}
