/** The API form of a webhook delivery. */
import type { Delivery } from '../../store/deliveries-repository.js';
import type { RunOutcome } from '../../store/runs-repository.js';
import { redactGitUrl } from '../../domain/git-url.js';

export function deliveryBody(d: Delivery & { run_results?: RunOutcome[] }) {
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
    run_results: (d.run_results ?? []).map((r) => ({
      id: r.id,
      number: r.number,
      pipeline: r.pipeline_name,
      status: r.status,
      error_reason: r.error_reason,
    })),
    received_at: d.received_at,
  };
}
