import { Type } from 'typebox';
import type { App } from '../server.js';
import type { ApiDeps } from './deps.js';
import { STEP_TYPES } from '../../domain/step-types.js';
import { errorResponses } from '../schemas/common.js';
import { StepTypeSchema } from '../schemas/pipelines.js';

export function stepTypesRoutes(app: App, deps: ApiDeps) {
  const body = { results: [...STEP_TYPES] };
  app.get(
    '/api/step-types/',
    {
      schema: {
        tags: ['pipelines'],
        summary: 'Available step types with the JSON Schema of their config',
        response: { 200: Type.Object({ results: Type.Array(StepTypeSchema) }), ...errorResponses(401) },
      },
    },
    async () => body,
  );

  app.get(
    '/api/config/',
    {
      config: { public: true },
      schema: {
        tags: ['meta'],
        summary: 'Public settings the web UI needs',
        response: { 200: Type.Object({ gateway_url: Type.String(), version: Type.String() }) },
      },
    },
    async () => ({ gateway_url: deps.gatewayUrl, version: deps.version }),
  );
}
