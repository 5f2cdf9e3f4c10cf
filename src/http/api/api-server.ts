/** The management API on port 8000: auth, users, pipelines, runs, step types, OpenAPI docs, web UI. */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { createServer, type ServerOptions } from '../server.js';
import { installAuth } from '../auth-hook.js';
import { ErrorBodySchema } from '../schemas/common.js';
import type { ApiDeps } from './deps.js';
import { authRoutes } from './auth-routes.js';
import { usersRoutes } from './users-routes.js';
import { pipelinesRoutes } from './pipelines-routes.js';
import { stepTypesRoutes } from './step-types-routes.js';
import { runsRoutes } from './runs-routes.js';
import { registerWebUi } from './web-ui.js';

export interface ApiRouteModule {
  (app: ReturnType<typeof createServer>, deps: ApiDeps): void;
}

export async function buildApiServer(options: ServerOptions, deps: ApiDeps, extra: Array<(app: ReturnType<typeof createServer>) => void | Promise<void>> = []) {
  const spaFallback: { current: ((url: string) => string | null) | null } = { current: null };
  const app = createServer({ ...options, spaFallback });
  app.addSchema(ErrorBodySchema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'AnsFlow management API', version: deps.version, description: 'Pipelines, runs, users and authentication (port 8000).' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearerAuth: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  // Two UIs (the document names both addresses); each in its own context, as swagger-ui decorates.
  for (const routePrefix of ['/api/docs', '/api/schema/swagger-ui'])
    await app.register(async (child) => {
      await child.register(swaggerUi, { routePrefix, uiConfig: { persistAuthorization: true } });
    });
  installAuth(app, deps.auth, ['/api/docs', '/api/schema/swagger-ui']);

  app.get('/api/schema/', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  for (const routes of [authRoutes, usersRoutes, pipelinesRoutes, stepTypesRoutes, runsRoutes]) routes(app, deps);
  for (const register of extra) await register(app);
  spaFallback.current = await registerWebUi(app);
  return app;
}
