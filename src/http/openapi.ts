/**
 * The OpenAPI set-up both ports share: the unified error body as a named schema, the document
 * (bearer JWT security on every operation, schemas referenced by their `$id`, an `operationId`
 * on every operation) and Swagger UIs. OpenAPI 3.1: its schemas are JSON Schema 2020-12, what
 * TypeBox writes (3.0's `exclusiveMinimum` is a boolean, `nullable` instead of a `null` type).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { App } from './server.js';
import { ErrorBodySchema } from './schemas/common.js';

export interface OpenApiOptions {
  title: string;
  version: string;
  description: string;
  /** Where the Swagger UIs are served; each is registered in its own context, as swagger-ui decorates. */
  uiPrefixes: string[];
}

export async function registerOpenApi(app: App, options: OpenApiOptions): Promise<void> {
  app.addSchema(ErrorBodySchema);
  app.addHook('onRoute', (route) => {
    if (route.schema?.hide) return;
    const method = Array.isArray(route.method) ? route.method[0]! : route.method;
    if (method === 'HEAD') return;
    route.schema = { ...route.schema, operationId: (route.schema as { operationId?: string } | undefined)?.operationId ?? operationIdOf(method, route.url) };
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: options.title,
        version: options.version,
        description: options.description,
        license: { name: 'MIT', identifier: 'MIT' },
      },
      // Relative: "try it out" calls the server that served the document, wherever it is.
      servers: [{ url: '/', description: 'the server that serves this document' }],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearerAuth: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  for (const routePrefix of options.uiPrefixes)
    await app.register(async (child) => {
      await child.register(swaggerUi, { routePrefix, uiConfig: { persistAuthorization: true } });
    });
}

/**
 * Serves the document as JSON at `url` (public, hidden from the document itself). Separate from
 * registerOpenApi because a server may need it after other plugins (the gateway: after websocket).
 */
export function serveOpenApiDocument(app: App, url: string): void {
  app.get(url, { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}

/**
 * A stable operationId from the method and path when a route names none: `GET
 * /api/pipelines/:id/runs/` is `getPipelinesByIdRuns` (the `/api` prefix and version dropped,
 * path parameters as `By<Name>`), unique because method and path are.
 */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .split('/')
    .filter((s) => s && s !== 'api' && !/^v\d+$/.test(s))
    .map((s) => (s.startsWith(':') ? `by_${s.slice(1)}` : s))
    .flatMap((s) => s.split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
  return method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}
