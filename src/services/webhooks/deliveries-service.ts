/**
 * The management side of webhook deliveries: the list (why did a push build or not) and
 * redeliver, which evaluates a stored delivery again against today's pipelines. Redelivered runs
 * are added to the delivery's runs and name the user who asked for them.
 */
import { AppError, conflict, notFound, permissionDenied } from '../../domain/errors.js';
import { canRunPipelines, type Actor } from '../../domain/roles.js';
import type { DeliveriesRepository, Delivery, Provider, Verdict } from '../../store/deliveries-repository.js';
import { providerAdapter } from './providers.js';
import { planOf } from './receive-webhook.js';
import type { MatchingDeps } from './trigger-matching.js';

export interface RedeliverResult {
  delivery: Delivery;
  triggered_runs: number[];
}

export class DeliveriesService {
  constructor(private readonly deps: MatchingDeps & { deliveries: DeliveriesRepository }) {}

  list(filter: { provider?: Provider; verdict?: Verdict }, page: { limit: number; offset: number }) {
    return this.deps.deliveries.list(filter, page);
  }

  async get(id: number): Promise<Delivery> {
    const stored = await this.deps.deliveries.findById(id);
    if (!stored) throw notFound('Webhook delivery');
    const { headers: _h, payload: _p, ...delivery } = stored;
    return delivery;
  }

  async redeliver(actor: Actor, id: number): Promise<RedeliverResult> {
    if (!canRunPipelines(actor)) throw permissionDenied('Viewers cannot redeliver webhooks');
    const stored = await this.deps.deliveries.findById(id);
    if (!stored) throw notFound('Webhook delivery');
    if (stored.payload === '') throw conflict('This delivery was rejected; its body was not stored, so it cannot be redelivered');
    let payload: unknown;
    try {
      payload = JSON.parse(stored.payload);
    } catch {
      throw new AppError('UNPROCESSABLE_ENTITY', 'The stored delivery body is not valid JSON');
    }
    const result = providerAdapter(stored.provider).normalize(stored.headers.event, payload);
    const plan = planOf(this.deps, actor, result);
    const { runIds, reason } = plan.run ? await plan.run(stored.delivery_id) : { runIds: [], reason: plan.reason };
    const verdict: Verdict = stored.runs.length + runIds.length > 0 ? 'triggered' : 'ignored';
    await this.deps.deliveries.complete(id, { verdict, reason: reason && `redelivered by ${actor.username}: ${reason}`, runIds });
    return { delivery: await this.get(id), triggered_runs: runIds };
  }
}
