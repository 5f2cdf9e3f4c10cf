/** Who may do what. Routes ask these predicates; none of them decides by itself. */
import type { TokenScope } from './token-scopes.js';
import type { RequestOrigin } from './audit.js';

export const ROLES = ['admin', 'developer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface Actor {
  id: number;
  username: string;
  role: Role;
  /** A personal access token's scopes; undefined for a password login (everything the role allows). */
  scopes?: readonly TokenScope[];
  /** Where the request came from, for the audit log. */
  origin?: RequestOrigin;
}

export const canManageUsers = (actor: Actor) => actor.role === 'admin';
export const canCreatePipelines = (actor: Actor) => actor.role === 'admin' || actor.role === 'developer';
export const canRunPipelines = (actor: Actor) => actor.role === 'admin' || actor.role === 'developer';

/** Developers edit and delete their own pipelines; admins edit all. */
export const canModifyPipeline = (actor: Actor, ownerId: number | null) => actor.role === 'admin' || (actor.role === 'developer' && ownerId === actor.id);

/**
 * Credentials follow pipelines: every signed-in user may read their metadata (names, kinds,
 * fingerprints, who uses them; never a value), as every user may read the pipelines that name
 * them; admins and developers create them; developers change and delete their own, admins all.
 */
export const canCreateCredentials = (actor: Actor) => actor.role === 'admin' || actor.role === 'developer';
export const canModifyCredential = (actor: Actor, ownerId: number | null) => actor.role === 'admin' || (actor.role === 'developer' && ownerId === actor.id);
