/**
 * Global roles and who acts. What each may do is decided in one place, the permission policy
 * (domain/permissions.ts): these are only the names.
 */
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
