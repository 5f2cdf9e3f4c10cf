/** Retrying a run from the step that failed, or from a chosen step (services/runs/retry-run.ts). */
import { Type } from 'typebox';
import type { App } from '../server.js';
import { currentUser } from '../auth-hook.js';
import { errorResponses, IdParams } from '../schemas/common.js';
import { RunSchema } from '../schemas/runs.js';
import { runBody } from '../../services/runs/run-view.js';
import { retryRun, type RetryDeps } from '../../services/runs/retry-run.js';

const RetryBody = Type.Object(
  {
    from: Type.Union([Type.Literal('failed'), Type.String({ minLength: 1, maxLength: 200 }), Type.Integer({ minimum: 1, maximum: 2147483647 })], {
      description: '`failed`: every step that did not succeed and what needs it; a step name or id: that step and what comes after it',
    }),
  },
  { additionalProperties: false },
);

export function retryRoutes(deps: RetryDeps) {
  return (app: App) => {
    app.post(
      '/api/pipeline-runs/:id/retry/',
      {
        schema: {
          tags: ['runs'],
          summary: 'Retry a finished run from the failed step (or a chosen one): a new run reusing the steps before it',
          params: IdParams,
          body: RetryBody,
          response: { 201: RunSchema, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request, reply) => reply.code(201).send(runBody(await retryRun(deps, currentUser(request), request.params.id, request.body.from))),
    );
  };
}
