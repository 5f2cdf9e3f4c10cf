/**
 * Retention: a pipeline's own policy (GET/PUT /api/pipelines/{id}/retention/) and pinned runs
 * (POST/DELETE /api/pipeline-runs/{id}/pin/). The permission rules are the policy's: reading the
 * policy is reading the pipeline, changing it is editing the pipeline, pinning is running.
 */
import { Type } from 'typebox';
import type { App } from '../server.js';
import { currentUser } from '../auth-hook.js';
import { errorResponses, IdParams, Nullable } from '../schemas/common.js';
import { RunSchema } from '../schemas/runs.js';
import { runBody } from '../../services/runs/run-view.js';
import type { RetentionService } from '../../services/retention/retention-service.js';
import { MAX_KEEP_DAYS, MAX_KEEP_RUNS } from '../../domain/retention.js';

const Policy = Type.Object(
  {
    keep_runs: Nullable(Type.Integer({ minimum: 1, maximum: MAX_KEEP_RUNS, description: 'Keep the newest N runs; null: no limit (or the default)' })),
    keep_days: Nullable(Type.Integer({ minimum: 1, maximum: MAX_KEEP_DAYS, description: 'Keep the runs of the last D days; null: no limit (or the default)' })),
  },
  { additionalProperties: false },
);

const RetentionSchema = Type.Object({ own: Policy, default: Policy, effective: Policy });

export function retentionRoutes(retention: RetentionService) {
  return (app: App) => {
    app.get(
      '/api/pipelines/:id/retention/',
      {
        schema: {
          tags: ['retention'],
          summary: "A pipeline's retention: its own setting, the global default, and what applies",
          params: IdParams,
          response: { 200: RetentionSchema, ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => retention.policy(currentUser(request), request.params.id),
    );

    app.put(
      '/api/pipelines/:id/retention/',
      {
        schema: {
          tags: ['retention'],
          summary: "Set a pipeline's retention (null fields fall back to the global default)",
          params: IdParams,
          body: Policy,
          response: { 200: RetentionSchema, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => retention.setPolicy(currentUser(request), request.params.id, request.body),
    );

    for (const [method, pinned] of [
      ['post', true],
      ['delete', false],
    ] as const) {
      app[method](
        '/api/pipeline-runs/:id/pin/',
        {
          schema: {
            tags: ['retention'],
            summary: pinned ? 'Pin a run: retention keeps it' : 'Unpin a run: retention may remove it again',
            params: IdParams,
            response: { 200: RunSchema, ...errorResponses(401, 403, 404) },
          },
        },
        async (request) => runBody(await retention.pin(currentUser(request), request.params.id, pinned)),
      );
    }
  };
}
