/**
 * Which sign-in methods exist, and single sign-on (services/auth/sso/sso-service.ts). All public:
 * the caller is signing in. The sign-in is bound to the browser by an HttpOnly cookie limited to
 * these paths; the callback ends on the web app's `/sso/callback` with a one-time code in the URL
 * fragment (never sent to a server, nor in a Referer), which the web app POSTs for its tokens.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../server.js';
import type { ApiDeps } from './deps.js';
import { errorResponses } from '../schemas/common.js';
import { LoginMethodsResponse, SsoExchangeBody, SsoExchangeResponse, SsoStartBody, SsoStartResponse } from '../schemas/sso.js';
import { AppError, notFound } from '../../domain/errors.js';
import { requestOrigin } from '../auth-hook.js';
import { SsoFailure } from '../../services/auth/sso/oidc-client.js';

const COOKIE = 'ansflow_sso';
const COOKIE_PATH = '/api/auth/oidc/';
export const SSO_CALLBACK_PATH = '/api/auth/oidc/callback/';

export function ssoRoutes(app: App, { sso, passwordLogin }: ApiDeps) {
  app.get(
    '/api/auth/methods/',
    {
      config: { public: true },
      schema: { tags: ['auth'], summary: 'The sign-in methods this server offers (for the login page)', response: { 200: LoginMethodsResponse } },
    },
    async () => ({ password: passwordLogin, sso: sso ? { name: sso.providerName } : null }),
  );

  app.post(
    '/api/auth/oidc/start/',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Start a single sign-on: the provider URL to send the browser to (and a cookie binding the sign-in to this browser)',
        body: SsoStartBody,
        response: { 200: SsoStartResponse, ...errorResponses(400, 404, 502) },
      },
    },
    async (request, reply) => {
      if (!sso) throw notFound('Single sign-on');
      try {
        const started = await sso.start({ redirectUri: redirectUri(request, sso.redirectUri), next: request.body?.next });
        setCookie(request, reply, started.browserSecret, 600);
        return { authorization_url: started.url };
      } catch (error) {
        if (error instanceof SsoFailure) throw new AppError('UPSTREAM_ERROR', error.message, { reason: error.reason });
        throw error;
      }
    },
  );

  app.get(
    SSO_CALLBACK_PATH,
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Where the provider sends the browser back; redirects to the web app',
        response: {
          302: {
            description: 'To the web app: `/sso/callback#code=…` after a sign-in, `/login?sso_error=<reason>` after a failure',
            headers: { Location: { type: 'string', description: 'Where the browser goes next' } },
            type: 'null',
          },
        },
      },
    },
    async (request, reply) => {
      if (!sso) return reply.redirect('/login?sso_error=not_configured', 302);
      const query = new URL(request.url, 'http://callback.invalid').searchParams;
      try {
        const { loginCode } = await sso.callback({ query, browserSecret: readCookie(request), origin: requestOrigin(request) });
        return reply.header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer').redirect(`/sso/callback#code=${loginCode}`, 302);
      } catch (error) {
        if (!(error instanceof SsoFailure)) throw error;
        request.log.warn({ reason: error.reason, message: error.message }, 'single sign-on failed');
        setCookie(request, reply, '', 0);
        return reply.header('Cache-Control', 'no-store').redirect(`/login?sso_error=${error.reason}`, 302);
      }
    },
  );

  app.post(
    '/api/auth/oidc/exchange/',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: "Exchange the one-time code of a finished single sign-on (with the sign-in's cookie) for a token pair",
        body: SsoExchangeBody,
        // 404: the server has no single sign-on.
        response: { 200: SsoExchangeResponse, ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      if (!sso) throw notFound('Single sign-on');
      const result = await sso.exchange({ loginCode: request.body.code, browserSecret: readCookie(request) });
      setCookie(request, reply, '', 0);
      return result;
    },
  );
}

/** The callback URL registered at the provider: configured, or this server as the browser reached it. */
function redirectUri(request: FastifyRequest, configured: string | null): string {
  return configured ?? `${request.protocol}://${request.host}${SSO_CALLBACK_PATH}`;
}

function readCookie(request: FastifyRequest): string | null {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return value.join('=') || null;
  }
  return null;
}

/** HttpOnly, only on these paths, sent on the provider's top-level redirect back (Lax), Secure over https. */
function setCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAge: number): void {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  void reply.header('Set-Cookie', `${COOKIE}=${value}; Path=${COOKIE_PATH}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure}`);
}
