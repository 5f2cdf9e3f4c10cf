/** Which scopes a role may give its tokens (the server checks the same: domain/token-scopes.ts). */
import type { Role } from '../api/types';
import type { TokenScope } from '../api/tokens-audit';

export const SCOPES_OF_ROLE: Record<Role, TokenScope[]> = {
  admin: ['read', 'run', 'write', 'admin'],
  developer: ['read', 'run', 'write'],
  viewer: ['read'],
};

export const SCOPE_HINT: Record<TokenScope, string> = {
  read: 'read everything you can read',
  run: 'read, start and cancel runs',
  write: 'run, create, change and delete',
  admin: 'everything, including users and the audit log',
};

/** A date `days` from today as yyyy-mm-dd (for the expiry input). */
export function dayInputValue(days: number, from = new Date()): string {
  const d = new Date(from.getTime() + days * 86_400_000);
  return d.toISOString().slice(0, 10);
}

/** The end of the chosen day (UTC) as the token's expiry. */
export const expiryFromDay = (day: string): string => `${day}T23:59:59.000Z`;
