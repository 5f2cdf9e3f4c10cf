/**
 * Personal access token scopes and what each lets a request do. Scopes nest: `run` includes
 * `read`, `write` includes `run`, `admin` includes everything. A token never holds more than its
 * user's role allows (`scopesOfRole`), and a request made with a token needs the scope of its
 * request class (`requestClass`) whatever the user could do with a password login.
 *
 * Until the permission policy (domain/permissions.ts) decides per action, `requestClass` is the one
 * place that maps method and route to a scope: the policy can take it over from here.
 */
import type { Role } from './roles.js';

export const TOKEN_SCOPES = ['read', 'run', 'write', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

const RANK: Record<TokenScope, number> = { read: 0, run: 1, write: 2, admin: 3 };

/** Every scope a role may give its tokens (a password login has all of them). */
export function scopesOfRole(role: Role): TokenScope[] {
  switch (role) {
    case 'admin':
      return ['read', 'run', 'write', 'admin'];
    case 'developer':
      return ['read', 'run', 'write'];
    case 'viewer':
      return ['read'];
    default: {
      const never: never = role;
      throw new Error(`unknown role ${String(never)}`);
    }
  }
}

/** Whether scopes (a token's; undefined = a password login, limited only by the role) allow a class. */
export function scopesAllow(scopes: readonly TokenScope[] | undefined, needed: TokenScope): boolean {
  if (scopes === undefined) return true;
  return scopes.some((s) => RANK[s] >= RANK[needed]);
}

/** Scopes ordered and without duplicates (what is stored and shown). */
export function normalizeScopes(scopes: readonly TokenScope[]): TokenScope[] {
  return TOKEN_SCOPES.filter((s) => scopes.includes(s));
}

/** Routes whose POST starts or stops a run (the `run` class; approving lets one start; a connectivity check); route patterns as Fastify names them. */
const RUN_ROUTES = new Set([
  '/api/pipelines/:id/run/',
  '/api/pipeline-runs/:id/cancel/',
  '/api/pipeline-runs/:id/retry/',
  '/api/pipeline-runs/:id/rerun-failed-hosts/',
  // Checking an inventory's hosts connects to them with its credential, as a run does.
  '/api/inventories/:id/check/',
  '/api/pipeline-runs/:id/approvals/',
  '/api/webhook-deliveries/:id/redeliver/',
  '/api/v1/integrations/jenkins/trigger',
]);

/** Routes whose POST only reads (checks a text, changes nothing): the `read` class. */
const READ_ROUTES = new Set(['/api/pipelines/lint/']);

/**
 * The scope a request needs, by method and route pattern: reads need `read`; starting or
 * cancelling a run needs `run`; other changes need `write`; administration (users other than
 * oneself) needs `admin`. Reading the audit log is a read here; the policy then asks `admin` for
 * the whole log and `read` for a maintainer's projects' events (read_audit_log, read_audit).
 */
export function requestClass(method: string, route: string): TokenScope {
  const reading = method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
  if (reading || READ_ROUTES.has(route)) return 'read';
  if (RUN_ROUTES.has(route)) return 'run';
  if (route.startsWith('/api/users/') && !route.startsWith('/api/users/me/')) return 'admin';
  return 'write';
}
