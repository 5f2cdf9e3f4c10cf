/**
 * A Fastify instance with what both ports share: the unified error body for every failure,
 * 404/405, strict validation, request ids, no internals in 5xx bodies.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { AppError, ERROR_STATUS, type ErrorCode } from '../domain/errors.js';
import { errorBody } from './error-body.js';
import { ajvErrorsToDetails, validatorCompiler } from './validation.js';
import { trackMethods } from './method-router.js';
import { isUnavailable } from '../store/unavailable.js';

export interface ServerOptions {
  logger: Logger;
  /** Returns the single-page app's HTML for a GET the router does not know (client-side routes). */
  spaFallback?: { current: ((url: string) => string | null) | null };
  bodyLimit: number;
  trustProxy: boolean;
}

export type App = ReturnType<typeof createServer>;

export function createServer(options: ServerOptions) {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // One debug line per request (below) instead of Fastify's two info lines: cheaper on the hot path.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    trustProxy: options.trustProxy,
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    routerOptions: { maxParamLength: 500, ignoreTrailingSlash: true, caseSensitive: true },
    // Errors the router raises before any route or hook (a malformed %-encoding, an over-long
    // parameter) would otherwise get Fastify's own body.
    frameworkErrors: (error, request, reply) => {
      const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      const message = error.code === 'FST_ERR_BAD_URL' ? 'Malformed URL: the path has an invalid percent-encoding' : error.message;
      void (reply as FastifyReply).code(status).send(errorBody(clientErrorCode(status), message, {}, request.url));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  const methods = trackMethods(app);

  // JSON bodies: an empty body is "no body" (clients send Content-Type on bodiless POSTs);
  // otherwise Fastify's parser, which also refuses __proto__ poisoning.
  const defaultJson = app.getDefaultJsonParser('error', 'error');
  // Only JSON is accepted; anything else is a clear 415 rather than a confusing validation error.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (typeof body === 'string' && body.trim() === '') return done(null, undefined);
    defaultJson(request, body as string, done);
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
  });
  // The level is fixed at start (nothing changes it at runtime), so at info the hook is not even installed.
  if (options.logger.isLevelEnabled('debug'))
    app.addHook('onResponse', async (request, reply) => {
      request.log.debug({ method: request.method, path: request.url.split('?')[0], status: reply.statusCode, ms: reply.elapsedTime }, 'request');
    });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const spa = request.method === 'GET' && request.headers.accept?.includes('text/html') ? options.spaFallback?.current?.(path) : null;
    if (spa) {
      void reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-cache').send(spa);
      return;
    }
    const allowed = methods.allowed(path);
    // A route that answers this method called "not found" itself (a static file that is not there).
    if (allowed.length > 0 && !allowed.includes(request.method === 'HEAD' ? 'GET' : request.method)) {
      void reply
        .code(405)
        .header('Allow', allowed.join(', '))
        .send(errorBody('METHOD_NOT_ALLOWED', `Method ${request.method} is not allowed on ${path}`, { allowed }, request.url));
      return;
    }
    void reply.code(404).send(errorBody('RESOURCE_NOT_FOUND', `No route for ${request.method} ${path}`, {}, request.url));
  });

  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    if (error instanceof AppError) {
      for (const [name, value] of Object.entries(error.headers)) void reply.header(name, value);
      return reply.code(error.status).send(errorBody(error.code, error.message, error.details, request.url));
    }
    const fe = error as FastifyError;
    if (fe.validation) {
      const details = ajvErrorsToDetails(fe.validation as never, fe.validationContext ?? 'body');
      return reply.code(400).send(errorBody('VALIDATION_ERROR', 'Request data validation failed', details, request.url));
    }
    const simple: Record<number, [ErrorCode, string]> = {
      400: ['VALIDATION_ERROR', fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError ? 'Malformed JSON body' : error.message],
      413: ['PAYLOAD_TOO_LARGE', 'Request body is too large'],
      415: ['UNSUPPORTED_MEDIA_TYPE', 'Unsupported Content-Type; send application/json'],
      429: ['RATE_LIMIT_EXCEEDED', 'Too many requests'],
    };
    const known = fe.statusCode !== undefined ? simple[fe.statusCode] : undefined;
    if (known) return reply.code(fe.statusCode!).send(errorBody(known[0], known[1], {}, request.url));
    // Any other 4xx a plugin raised (a static path that climbs out is a 403 from @fastify/static):
    // the client's mistake, so its status and a catalog code, not a 500.
    if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500)
      return reply.code(fe.statusCode).send(errorBody(clientErrorCode(fe.statusCode), error.message, {}, request.url));
    if (isUnavailable(error)) {
      request.log.warn({ err: error }, 'backing service unavailable');
      return reply
        .code(503)
        .header('Retry-After', '5')
        .send(errorBody('SERVICE_UNAVAILABLE', 'A backing service is unavailable; try again shortly', { request_id: request.id }, request.url));
    }
    request.log.error({ err: error, request_id: request.id }, 'unhandled error');
    return reply.code(500).send(errorBody('INTERNAL_ERROR', 'Internal server error', { request_id: request.id }, request.url));
  });

  return app;
}

/** The catalog code for a 4xx status; VALIDATION_ERROR for statuses the catalog has no code of (414, 416…). */
function clientErrorCode(status: number): ErrorCode {
  const code = (Object.entries(ERROR_STATUS) as Array<[ErrorCode, number]>).find(([, s]) => s === status)?.[0];
  return code ?? 'VALIDATION_ERROR';
}
