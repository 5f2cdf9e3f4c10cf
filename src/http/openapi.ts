/**
 * The OpenAPI set-up both ports share: the unified error body as a named schema, the document
 * (bearer JWT security on every operation, schemas referenced by their `$id`) and Swagger UIs.
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
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: options.title, version: options.version, description: options.description },
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
