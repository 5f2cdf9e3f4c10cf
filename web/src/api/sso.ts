/** Sign-in methods and single sign-on (OpenID Connect): start, and exchange the one-time code for tokens. */
import { api } from './client';
import type { LoginResponse } from './types';

export interface LoginMethods {
  /** False when password sign-in is off (only the break-glass account may use it). */
  password: boolean;
  sso: { name: string } | null;
}

export const getLoginMethods = () => api<LoginMethods>('/api/auth/methods/', { anonymous: true });

/** The provider URL to send the browser to; the answer also sets the sign-in's cookie. */
export const startSso = (next: string) => api<{ authorization_url: string }>('/api/auth/oidc/start/', { method: 'POST', body: { next }, anonymous: true });

export const exchangeSsoCode = (code: string) =>
  api<LoginResponse & { next: string }>('/api/auth/oidc/exchange/', { method: 'POST', body: { code }, anonymous: true });

/** What the login page says for each reason the server gives (`/login?sso_error=…`). */
export const SSO_ERRORS: Record<string, string> = {
  state_invalid: 'That sign-in could not be completed (it expired, was already used, or was started in another browser). Try again.',
  provider_timeout: 'The sign-in provider did not answer in time. Try again later.',
  provider_unreachable: 'The sign-in provider could not be reached. Try again later.',
  provider_error: 'The sign-in provider refused the sign-in.',
  denied: 'The sign-in was cancelled at the provider.',
  invalid_response: "The sign-in provider's answer could not be trusted; nobody was signed in.",
  account: 'Your account cannot sign in here (it may be deactivated). Ask an administrator.',
  not_configured: 'Single sign-on is not set up on this server.',
};
