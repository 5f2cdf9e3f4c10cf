/**
 * The management side of webhook deliveries: the list (why did a push build or not) and
 * redeliver, which evaluates a stored delivery again against today's pipelines. Redelivered runs
 * are added to the delivery's runs and name the user who asked for them.
 */
import { AppError, conflict, notFound, permissionDenied } from '../../domain/errors.js';
import { decide, isAdmin, type Actor, type Decision } from '../../domain/permissions.js';
import type { DeliveriesRepository, Delivery, DeliveryFilter, Verdict } from '../../store/deliveries-repository.js';
import type { HistoryPage, HistoryWindow } from '../../store/history-window.js';
import type { RunOutcome } from '../../store/runs-repository.js';
import { providerAdapter } from './providers.js';
import { planOf } from './receive-webhook.js';
import type { MatchingDeps } from './trigger-matching.js';
import type { ProjectAccess } from '../projects/project-access.js';

/** A delivery as listed: with what its runs came to (those the reader may read). */
export type DeliveryWithResults = Delivery & { run_results: RunOutcome[] };

export interface RedeliverResult {
  delivery: Delivery;
  triggered_runs: number[];
}

export class DeliveriesService {
  constructor(private readonly deps: MatchingDeps & { deliveries: DeliveriesRepository; access: ProjectAccess }) {}

  /**
   * What the actor may read: deliveries that started runs in the actor's projects (all for an
   * admin; one that started no run is for admins only). A `project` the actor cannot read is a 404.
   */
  async list(actor: Actor, filter: Omit<DeliveryFilter, 'memberId'>, page: HistoryWindow): Promise<HistoryPage<DeliveryWithResults>> {
    if (filter.project !== undefined) await this.deps.access.requireReadable(actor, filter.project);
    const found = await this.deps.deliveries.list({ ...filter, ...this.deps.access.readFilter(actor) }, page);
    const results = await this.runResults(
      actor,
      found.items.flatMap((d) => d.runs),
    );
    return { ...found, items: found.items.map((d) => ({ ...d, run_results: d.runs.flatMap((id) => results.get(id) ?? []) })) };
  }

  /**
   * What the delivery's runs came to (status and reason: an invalid pipeline file says so here),
   * for the runs the actor may read; a delivery's runs in other projects stay bare ids.
   */
  private async runResults(actor: Actor, ids: number[]): Promise<Map<number, RunOutcome>> {
    const outcomes = await this.deps.runs.outcomes([...new Set(ids)]);
    const readable = new Map<number, Promise<boolean>>();
    const mayRead = (projectId: number) => {
      let known = readable.get(projectId);
      if (!known) {
        known = isAdmin(actor) ? Promise.resolve(true) : this.deps.access.decision(actor, projectId, 'read').then((d) => d === 'allow');
        readable.set(projectId, known);
      }
      return known;
    };
    const shown = new Map<number, RunOutcome>();
    for (const outcome of outcomes) if (await mayRead(outcome.project_id)) shown.set(outcome.id, outcome);
    return shown;
  }

  async get(id: number): Promise<Delivery> {
    const stored = await this.deps.deliveries.findById(id);
    if (!stored) throw notFound('Webhook delivery');
    const { headers: _h, payload: _p, ...delivery } = stored;
    return delivery;
  }

  /**
   * Redelivering needs reading the delivery (404 otherwise) and `run` in one of its projects (or
   * admin); each matched pipeline is then started only if the actor may run it (trigger-run.ts),
   * and the pipelines the actor may not read are skipped without a word.
   */
  async redeliver(actor: Actor, id: number): Promise<RedeliverResult> {
    const stored = await this.deps.deliveries.findById(id);
    if (!stored) throw notFound('Webhook delivery');
    const decisions: Decision[] = isAdmin(actor)
      ? [decide({ actor, membership: null, action: 'run' })]
      : await Promise.all(stored.project_ids.map((p) => this.deps.access.decision(actor, p, 'run')));
    if (!decisions.some((d) => d !== 'hide')) throw notFound('Webhook delivery');
    if (!decisions.includes('allow')) throw permissionDenied('Your role does not allow redelivering this delivery');
    if (stored.payload === '') throw conflict('This delivery was rejected; its body was not stored, so it cannot be redelivered');
    let payload: unknown;
    try {
      payload = JSON.parse(stored.payload);
    } catch {
      throw new AppError('UNPROCESSABLE_ENTITY', 'The stored delivery body is not valid JSON');
    }
    const result = providerAdapter(stored.provider).normalize(stored.headers.event, payload);
    const plan = planOf(this.deps, actor, result);
    const { runIds, reason, projectIds } = plan.run ? await plan.run(stored.delivery_id) : { runIds: [], reason: plan.reason, projectIds: [] };
    const verdict: Verdict = stored.runs.length + runIds.length > 0 ? 'triggered' : 'ignored';
    await this.deps.deliveries.complete(id, { verdict, reason: reason && `redelivered by ${actor.username}: ${reason}`, runIds, projectIds });
    return { delivery: await this.get(id), triggered_runs: runIds };
  }
}
