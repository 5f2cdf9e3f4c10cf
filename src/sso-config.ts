/**
 * The single sign-on part of the configuration (src/config.ts calls it): an OpenID Connect
 * provider, how its groups map to project roles, and whether passwords still sign in.
 */
import { isIP } from 'node:net';
import { parseGroupRoleMapping, type GroupRoleMapping } from './domain/sso.js';

export interface OidcConfig {
  /** The provider's issuer URL (discovery: `<issuer>/.well-known/openid-configuration`). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Shown on the login page: "Sign in with <name>". */
  name: string;
  /** Scopes asked for (always with `openid`). */
  scopes: string;
  /** The claim (in the ID token or at the userinfo endpoint) that lists the user's groups. */
  groupsClaim: string;
  groupRoles: GroupRoleMapping;
  /** The global role of accounts made at first sign-in (the global role caps project roles). */
  defaultRole: 'developer' | 'viewer';
  /** The callback URL registered at the provider; null: this server's address as the browser used it. */
  redirectUri: string | null;
  /** Every request to the provider ends within this (discovery, token, keys, userinfo). */
  timeoutSeconds: number;
}

export interface SsoConfig {
  oidc: OidcConfig | null;
  /** False (ANSFLOW_PASSWORD_LOGIN=off): only `breakGlassUser` signs in with a password. */
  passwordLogin: boolean;
  /** The one account that still signs in with a password when password login is off. */
  breakGlassUser: string;
}

type Env = Record<string, string | undefined>;

export function loadSsoConfig(env: Env, problems: string[]): SsoConfig {
  const str = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? null : v.trim();
  };
  const passwordRaw = (str('ANSFLOW_PASSWORD_LOGIN') ?? 'on').toLowerCase();
  if (!['on', 'off'].includes(passwordRaw)) problems.push(`ANSFLOW_PASSWORD_LOGIN="${passwordRaw}" must be on or off`);
  const passwordLogin = passwordRaw !== 'off';
  const breakGlassUser = str('ANSFLOW_BREAK_GLASS_USER') ?? 'admin';

  const issuer = str('ANSFLOW_OIDC_ISSUER');
  if (issuer === null) {
    for (const name of ['ANSFLOW_OIDC_CLIENT_ID', 'ANSFLOW_OIDC_CLIENT_SECRET', 'ANSFLOW_OIDC_GROUP_ROLES'])
      if (str(name) !== null) problems.push(`${name} is set but ANSFLOW_OIDC_ISSUER is not`);
    if (!passwordLogin) problems.push('ANSFLOW_PASSWORD_LOGIN=off needs single sign-on (ANSFLOW_OIDC_ISSUER), or only the break-glass user could sign in');
    return { oidc: null, passwordLogin, breakGlassUser };
  }
  if (!secureOrLoopback(issuer)) problems.push('ANSFLOW_OIDC_ISSUER must be an https:// URL (http:// only on a loopback address, for tests)');
  const clientId = str('ANSFLOW_OIDC_CLIENT_ID');
  const clientSecret = str('ANSFLOW_OIDC_CLIENT_SECRET');
  if (clientId === null) problems.push('ANSFLOW_OIDC_CLIENT_ID is required with ANSFLOW_OIDC_ISSUER');
  if (clientSecret === null) problems.push('ANSFLOW_OIDC_CLIENT_SECRET is required with ANSFLOW_OIDC_ISSUER');
  const mappingRaw = str('ANSFLOW_OIDC_GROUP_ROLES');
  const parsed = mappingRaw === null ? { mapping: {}, problems: [] } : parseGroupRoleMapping(mappingRaw);
  problems.push(...parsed.problems.map((p) => `ANSFLOW_OIDC_GROUP_ROLES ${p}`));
  const defaultRole = str('ANSFLOW_OIDC_DEFAULT_ROLE') ?? 'developer';
  if (defaultRole !== 'developer' && defaultRole !== 'viewer') problems.push(`ANSFLOW_OIDC_DEFAULT_ROLE="${defaultRole}" must be developer or viewer`);
  const redirectUri = str('ANSFLOW_OIDC_REDIRECT_URI');
  if (redirectUri !== null && !secureOrLoopback(redirectUri))
    problems.push('ANSFLOW_OIDC_REDIRECT_URI must be an https:// URL (http:// only on a loopback address)');
  const timeoutRaw = str('ANSFLOW_OIDC_TIMEOUT_SECONDS') ?? '10';
  const timeoutSeconds = Number(timeoutRaw);
  if (!/^\d+$/.test(timeoutRaw) || timeoutSeconds < 1 || timeoutSeconds > 120)
    problems.push(`ANSFLOW_OIDC_TIMEOUT_SECONDS="${timeoutRaw}" must be a whole number from 1 to 120`);
  const scopes = new Set(['openid', ...(str('ANSFLOW_OIDC_SCOPES') ?? 'openid profile email').split(/\s+/).filter(Boolean)]);
  return {
    oidc: {
      issuer,
      clientId: clientId ?? '',
      clientSecret: clientSecret ?? '',
      name: str('ANSFLOW_OIDC_NAME') ?? 'single sign-on',
      scopes: [...scopes].join(' '),
      groupsClaim: str('ANSFLOW_OIDC_GROUPS_CLAIM') ?? 'groups',
      groupRoles: parsed.mapping,
      defaultRole: defaultRole === 'viewer' ? 'viewer' : 'developer',
      redirectUri,
      timeoutSeconds: Number.isFinite(timeoutSeconds) ? timeoutSeconds : 10,
    },
    passwordLogin,
    breakGlassUser,
  };
}

/** https anywhere; http only to a loopback host (a provider started by a test, a local dev IdP). */
export function secureOrLoopback(raw: string): boolean {
  try {
    const url = new URL(raw);
    if (url.protocol === 'https:') return true;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    return url.protocol === 'http:' && (host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.')));
  } catch {
    return false;
  }
}
