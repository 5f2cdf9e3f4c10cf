/**
 * Single sign-on rules that need no network or database: which project roles a person's groups
 * at the identity provider give them, and which local username a new account gets.
 */
import { PROJECT_ROLES, type ProjectRole } from './permissions.js';

/**
 * Group → project → role, e.g. `{"ci-maintainers": {"infra": "maintainer"}, "staff": {"default": "viewer"}}`.
 * The projects it names are managed by it: at every sign-in a user's role there is the highest
 * role any of their groups grants, and a user whom no group grants one is removed from it.
 */
export type GroupRoleMapping = Record<string, Record<string, ProjectRole>>;

const RANK: Record<ProjectRole, number> = { viewer: 0, developer: 1, maintainer: 2, owner: 3 };

/** Parses the mapping's JSON; the problems name what is wrong (config reports them at start). */
export function parseGroupRoleMapping(raw: string): { mapping: GroupRoleMapping; problems: string[] } {
  const problems: string[] = [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { mapping: {}, problems: ['must be JSON: {"<group>": {"<project name>": "<role>"}}'] };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { mapping: {}, problems: ['must be a JSON object of groups'] };
  const mapping: GroupRoleMapping = {};
  for (const [group, projects] of Object.entries(parsed)) {
    if (typeof projects !== 'object' || projects === null || Array.isArray(projects)) {
      problems.push(`group "${group}" must map to an object of project names and roles`);
      continue;
    }
    mapping[group] = {};
    for (const [project, role] of Object.entries(projects as Record<string, unknown>)) {
      if (typeof role !== 'string' || !(PROJECT_ROLES as readonly string[]).includes(role)) {
        problems.push(`group "${group}", project "${project}": role must be one of ${PROJECT_ROLES.join(', ')}`);
        continue;
      }
      mapping[group]![project] = role as ProjectRole;
    }
  }
  return { mapping, problems };
}

/**
 * Project name (lower case) → the role the groups give, or null where the mapping names the
 * project but none of the groups grants a role there (the membership is to be removed).
 */
export function rolesFromGroups(mapping: GroupRoleMapping, groups: readonly string[]): Map<string, ProjectRole | null> {
  const roles = new Map<string, ProjectRole | null>();
  for (const projects of Object.values(mapping)) for (const project of Object.keys(projects)) roles.set(project.toLowerCase(), null);
  for (const group of new Set(groups)) {
    for (const [project, role] of Object.entries(mapping[group] ?? {})) {
      const key = project.toLowerCase();
      const had = roles.get(key) ?? null;
      if (had === null || RANK[role] > RANK[had]) roles.set(key, role);
    }
  }
  return roles;
}

/** The groups in a claim's value: an array of strings, or one string (some providers send that). */
export function groupsOfClaim(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === 'string');
  return [];
}

const USERNAME_MAX = 150;

/**
 * The username a new account would like: the provider's `preferred_username`, else the local part
 * of the e-mail, else `user`, reduced to the characters usernames allow. It is only a wish: an
 * account is linked by issuer and subject, never by this name, and a name already taken gets a
 * number (`admin-2`), so nobody at the provider can sign in as an existing local user.
 */
export function usernameWish(claims: { preferred_username?: unknown; email?: unknown }): string {
  const candidates = [claims.preferred_username, typeof claims.email === 'string' ? claims.email.split('@')[0] : undefined];
  for (const candidate of candidates) {
    if (typeof candidate !== 'string') continue;
    const cleaned = candidate.replace(/[^A-Za-z0-9_.@+-]/g, '').slice(0, USERNAME_MAX - 8);
    if (cleaned !== '') return cleaned;
  }
  return 'user';
}

/** The n-th alternative to a taken name (n >= 2). */
export const numberedUsername = (wish: string, n: number): string => `${wish}-${n}`;
