/** The management API on port 8000: auth, users, pipelines, runs, step types, OpenAPI docs, web UI. */
import { createServer, type ServerOptions } from '../server.js';
import { installAuth } from '../auth-hook.js';
import { registerOpenApi, serveOpenApiDocument } from '../openapi.js';
import type { ApiDeps } from './deps.js';
import { authRoutes } from './auth-routes.js';
import { usersRoutes } from './users-routes.js';
import { pipelinesRoutes } from './pipelines-routes.js';
import { stepTypesRoutes } from './step-types-routes.js';
import { runsRoutes } from './runs-routes.js';
import { credentialsRoutes } from './credentials-routes.js';
import { projectsRoutes } from './projects-routes.js';
import { tokensRoutes } from './tokens-routes.js';
import { auditRoutes } from './audit-routes.js';
import { ssoRoutes } from './sso-routes.js';
import { registerWebUi } from './web-ui.js';

export async function buildApiServer(options: ServerOptions, deps: ApiDeps, extra: Array<(app: ReturnType<typeof createServer>) => void | Promise<void>> = []) {
  const spaFallback: { current: ((url: string) => string | null) | null } = { current: null };
  const app = createServer({ ...options, spaFallback });
  // Two UIs (the document names both addresses).
  await registerOpenApi(app, {
    title: 'AnsFlow management API',
    version: deps.version,
    description: 'Pipelines, runs, users and authentication (port 8000).',
    uiPrefixes: ['/api/docs', '/api/schema/swagger-ui'],
  });
  installAuth(app, deps.auth, ['/api/docs', '/api/schema/swagger-ui']);

  serveOpenApiDocument(app, '/api/schema/');

  for (const routes of [
    authRoutes,
    usersRoutes,
    pipelinesRoutes,
    stepTypesRoutes,
    runsRoutes,
    credentialsRoutes,
    projectsRoutes,
    tokensRoutes,
    auditRoutes,
    ssoRoutes,
  ])
    routes(app, deps);
  for (const register of extra) await register(app);
  spaFallback.current = await registerWebUi(app);
  return app;
}
