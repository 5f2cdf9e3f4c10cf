/**
 * Authentication for every route of a server unless the route says `config: { public: true }`.
 * Runs at onRequest, before the body is read or validated: an anonymous caller learns nothing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { permissionDenied, unauthenticated } from '../domain/errors.js';
import type { User } from '../store/users-repository.js';
import type { AuthService } from '../services/auth/auth-service.js';
import type { RequestOrigin } from '../domain/audit.js';
import { requestClass, scopesAllow, type TokenScope } from '../domain/token-scopes.js';

/** The acting user of a request: a token's scopes (none for a password login) and where it came from. */
export type RequestUser = User & { scopes?: TokenScope[]; origin: RequestOrigin };

declare module 'fastify' {
  interface FastifyRequest {
    user: RequestUser | null;
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
    const user = await auth.authenticate(token);
    request.user = { ...user, origin: requestOrigin(request) };
    // A token's scope limits what it may do even where its user could do more.
    const needed = requestClass(request.method, url);
    if (!scopesAllow(user.scopes, needed))
      throw permissionDenied(`This token's scopes (${(user.scopes ?? []).join(', ') || 'none'}) do not allow this request; it needs "${needed}"`);
  });
}

/** Where a request came from, for the audit log (the client address as Fastify's trustProxy sees it). */
export function requestOrigin(request: FastifyRequest): RequestOrigin {
  const agent = request.headers['user-agent'];
  return { ip: request.ip ?? null, userAgent: typeof agent === 'string' ? agent.slice(0, 512) : null };
}

/** The authenticated user of a route that is not public. */
export function currentUser(request: FastifyRequest): RequestUser {
  if (!request.user) throw unauthenticated();
  return request.user;
}
