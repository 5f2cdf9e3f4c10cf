/**
 * Receiving one webhook delivery (CONTRACT.md, Gateway):
 *   1. authenticate the raw body (HMAC signature / token, constant time) → 401, recorded as
 *      `rejected` without the body (see rejection-recorder.ts);
 *   2. parse and normalise it (a body that is not the announced event → 400, recorded `rejected`);
 *   3. store it under (provider, delivery id) BEFORE answering: the unique index decides which of
 *      two identical deliveries is the first, even when they arrive at the same time;
 *   4. the first: ping → 200; nothing to run → 202 with no runs; otherwise one run per matching
 *      pipeline, recorded on the delivery, → 202 with their ids;
 *      a duplicate: waits until the first has its runs and answers 200 with them, starting none.
 */
import { randomUUID } from 'node:crypto';
import { AppError, coerceError, unauthenticated, validationError } from '../../domain/errors.js';
import type { Actor } from '../../domain/roles.js';
import { redactGitUrl } from '../../domain/git-url.js';
import { isIgnored, isPing, isTrigger, type NormalizeResult } from '../../integrations/trigger-event.js';
import type { DeliveriesRepository, Delivery, Provider, Verdict } from '../../store/deliveries-repository.js';
import { providerAdapter, single, type Headers, type WebhookSecrets } from './providers.js';
import { clip, rejectedRow, type RejectionRecorder } from './rejection-recorder.js';
import { triggerMatching, type MatchingDeps } from './trigger-matching.js';
import { CompletionWaiter } from './completion-waiter.js';
import { skipCiMarker } from '../../integrations/skip-ci.js';

export interface WebhookDeps extends MatchingDeps {
  deliveries: DeliveriesRepository;
  secrets: WebhookSecrets;
  rejections: RejectionRecorder;
  waiter: CompletionWaiter;
  /** Called once per delivery with its verdict (metrics). */
  onVerdict?: (provider: Provider, verdict: Verdict | 'duplicate') => void;
}

export interface IncomingDelivery {
  provider: Provider;
  headers: Headers;
  body: Buffer;
}

export interface WebhookAnswer {
  status: 200 | 202;
  body: { delivery_id: string; event: string; triggered_runs: number[] };
}

const DELIVERY_KEY = /^[\x21-\x7e]{1,200}$/;

export async function receiveWebhook(deps: WebhookDeps, delivery: IncomingDelivery): Promise<WebhookAnswer> {
  const { provider, headers, body } = delivery;
  const adapter = providerAdapter(provider);
  const event = adapter.event(headers);

  const verified = adapter.verify(headers, body, deps.secrets);
  if (!verified.ok) {
    await deps.rejections.record(provider, event, verified.reason).catch(() => undefined);
    deps.onVerdict?.(provider, 'rejected');
    throw unauthenticated(verified.reason);
  }

  const sentKey = adapter.deliveryKey(headers);
  if (sentKey !== undefined && !DELIVERY_KEY.test(sentKey))
    throw validationError({ delivery_id: ['The delivery id must be 1-200 printable ASCII characters.'] });
  // Without an id (old GitLab) nothing can be deduplicated; every such delivery is new.
  const key = sentKey ?? randomUUID();
  const shownEvent = clip(event ?? '', 100);

  const payloadText = payloadOf(headers, body);
  let payload: unknown;
  try {
    payload = JSON.parse(payloadText ?? '');
  } catch {
    return refuse(deps, { provider, key, event: shownEvent, reason: 'The delivery body is not valid JSON' });
  }
  const result = adapter.normalize(event, payload);
  if (isIgnored(result) && result.malformed) return refuse(deps, { provider, key, event: shownEvent, reason: result.ignored });

  const plan = planOf(deps, null, result);
  const trigger = isTrigger(result) ? result : null;
  const id = await deps.deliveries.insertIfNew({
    provider,
    deliveryKey: key,
    event: shownEvent,
    action: trigger ? trigger.action : null,
    // The sender chose this URL: it is stored (and shown) without any credentials it may carry.
    repository: trigger?.repositoryUrls[0] !== undefined ? redactGitUrl(trigger.repositoryUrls[0]) : null,
    ref: trigger ? trigger.ref : null,
    commit: trigger ? trigger.commit : null,
    verdict: plan.verdict,
    reason: plan.reason,
    headers: storedHeaders(headers, event),
    payload: payloadText ?? '',
    complete: plan.run === null,
  });
  if (id === null) {
    deps.onVerdict?.(provider, 'duplicate');
    const first = await deps.waiter.wait(provider, key);
    return { status: 200, body: { delivery_id: key, event: shownEvent, triggered_runs: first?.runs ?? [] } };
  }
  if (plan.run === null) {
    deps.onVerdict?.(provider, plan.verdict);
    return { status: isPing(result) ? 200 : 202, body: { delivery_id: key, event: shownEvent, triggered_runs: [] } };
  }

  const done = deps.waiter.started(provider, key);
  try {
    const outcome = await plan.run(key);
    const verdict: Verdict = outcome.runIds.length > 0 ? 'triggered' : 'ignored';
    await deps.deliveries.complete(id, { verdict, reason: outcome.reason, runIds: outcome.runIds, projectIds: outcome.projectIds });
    deps.onVerdict?.(provider, verdict);
    return { status: 202, body: { delivery_id: key, event: shownEvent, triggered_runs: outcome.runIds } };
  } catch (thrown) {
    const error = coerceError(thrown);
    await deps.deliveries
      .complete(id, { verdict: 'ignored', reason: `runs could not be started: ${error.message.slice(0, 300)}`, runIds: [] })
      .catch(() => undefined);
    throw error;
  } finally {
    done();
  }
}

interface Plan {
  verdict: Verdict;
  reason: string | null;
  /** Starts the runs; null when there is nothing to run. */
  run: ((deliveryId: string) => ReturnType<typeof triggerMatching>) | null;
}

/**
 * What a normalised delivery leads to: a ping or an ignored delivery runs nothing (with its
 * reason); a trigger event starts the matching pipelines' runs, as `actor` (null: the webhook
 * itself; a user when redelivered).
 */
export function planOf(deps: MatchingDeps, actor: Actor | null, result: NormalizeResult): Plan {
  if (isPing(result)) return { verdict: 'ignored', reason: 'ping', run: null };
  if (isIgnored(result)) return { verdict: 'ignored', reason: result.ignored, run: null };
  const skip = skipCiMarker(result.message);
  if (skip) return { verdict: 'ignored', reason: `skipped: the head commit's message says ${skip}`, run: null };
  // Marked triggered until the runs exist; complete() settles the verdict (ignored if none matched).
  return { verdict: 'triggered', reason: null, run: (deliveryId) => triggerMatching(deps, actor, result, deliveryId) };
}

/** A body that is not a delivery of the event its header names: stored (for the record), 400. */
async function refuse(deps: WebhookDeps, d: { provider: Provider; key: string; event: string; reason: string }): Promise<never> {
  await deps.deliveries.insertIfNew(rejectedRow(d.provider, d.key, d.event, d.reason)).catch(() => undefined);
  deps.onVerdict?.(d.provider, 'rejected');
  throw new AppError('VALIDATION_ERROR', d.reason, { body: [d.reason] });
}

/** GitHub may be configured to send `application/x-www-form-urlencoded` with a `payload` field. */
function payloadOf(headers: Headers, body: Buffer): string | null {
  const type = single(headers['content-type'])?.split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return new URLSearchParams(body.toString('utf8')).get('payload');
  return body.toString('utf8');
}

/** What redelivery needs, and nothing secret (no signature or token). */
function storedHeaders(headers: Headers, event: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (event !== undefined) out.event = event;
  const agent = single(headers['user-agent']);
  if (agent !== undefined) out.user_agent = clip(agent, 200);
  return out;
}

export type { Delivery };
