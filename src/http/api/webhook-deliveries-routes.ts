/** GET /api/webhook-deliveries/ (why did a push build or not) and POST .../{id}/redeliver/. */
import type { App } from '../server.js';
import { currentUser } from '../auth-hook.js';
import { errorResponses, IdParams } from '../schemas/common.js';
import { historyEnvelope, historyPageOf, historyWindow } from '../history-paging.js';
import type { DeliveriesService } from '../../services/webhooks/deliveries-service.js';
import { deliveryBody } from '../../services/webhooks/delivery-view.js';
import { DeliveryListQuery, DeliverySchema, RedeliverAnswerSchema } from '../gateway/schemas.js';

export function webhookDeliveriesRoutes(deliveries: DeliveriesService) {
  return (app: App) => {
    app.get(
      '/api/webhook-deliveries/',
      {
        schema: {
          tags: ['webhooks'],
          summary: 'Recent webhook deliveries with their verdict and runs',
          querystring: DeliveryListQuery,
          response: { 200: historyPageOf(DeliverySchema), ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => {
        const q = request.query;
        const page = await deliveries.list(
          currentUser(request),
          { ...(q.provider ? { provider: q.provider } : {}), ...(q.verdict ? { verdict: q.verdict } : {}), ...(q.project ? { project: q.project } : {}) },
          historyWindow(q),
        );
        return historyEnvelope(request, q, page, deliveryBody);
      },
    );

    app.post(
      '/api/webhook-deliveries/:id/redeliver/',
      {
        schema: {
          tags: ['webhooks'],
          summary: 'Evaluate a stored delivery again (admins and developers); new runs are recorded on it',
          params: IdParams,
          response: { 200: RedeliverAnswerSchema, ...errorResponses(401, 403, 404, 409, 422) },
        },
      },
      async (request) => {
        const result = await deliveries.redeliver(currentUser(request), request.params.id);
        return { delivery: deliveryBody(result.delivery), triggered_runs: result.triggered_runs };
      },
    );
  };
}
