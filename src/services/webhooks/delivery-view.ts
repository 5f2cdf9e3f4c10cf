/** The API form of a webhook delivery. */
import type { Delivery } from '../../store/deliveries-repository.js';
import { redactGitUrl } from '../../domain/git-url.js';

export function deliveryBody(d: Delivery) {
  return {
    id: d.id,
    provider: d.provider,
    delivery_id: d.delivery_id,
    event: d.event,
    action: d.action,
    repository: d.repository === null ? null : redactGitUrl(d.repository),
    ref: d.ref,
    commit: d.commit,
    verdict: d.verdict,
    reason: d.reason,
    runs: d.runs,
    received_at: d.received_at,
  };
}
