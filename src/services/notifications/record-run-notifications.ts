/**
 * Writes the notification events of a run's current state into the outbox: `approval_requested`
 * when it waits at its environment's gate; at its end `run_failed`, `run_succeeded`, `run_fixed`
 * (the first success after a failure of the pipeline on that branch) and, for a run that
 * deployed, `deployment_finished`. One delivery per matching channel and occurrence (unique), and
 * the run's `notified` mark, in one transaction. Read from the database, not from the event that
 * woke it, so a late or repeated event, or several processes hearing the same one, write nothing
 * twice.
 */
import { eventSummary, runEndEvents, type NotificationEvent, type NotificationPayload } from '../../domain/notifications.js';
import { isFinalRunStatus } from '../../domain/status.js';
import type { NotificationsRepository, RunForNotification } from '../../store/notifications-repository.js';
import type { Transactor } from '../../store/transaction.js';

export interface RecordDeps {
  notifications: NotificationsRepository;
  transaction: Transactor;
  /** Where users open AnsFlow: run links start here. */
  publicUrl: string;
}

/** How many deliveries were written (0 when the state had none, or another process wrote them). */
export async function recordRunNotifications(deps: RecordDeps, runId: number, at: string): Promise<number> {
  const run = await deps.notifications.runForNotification(runId);
  // A project without channels costs one indexed read per run end, and no write (the sweep looks
  // only at projects with channels, so such runs are never looked at again).
  if (!run || !(await deps.notifications.projectHasChannels(run.project_id))) return 0;
  let state: 'waiting' | 'final';
  let events: NotificationEvent[];
  if (run.status === 'waiting') {
    if (run.notified !== null || run.approved_at !== null) return 0;
    state = 'waiting';
    events = ['approval_requested'];
  } else if (isFinalRunStatus(run.status)) {
    if (run.notified === 'final') return 0;
    state = 'final';
    const previous = run.pipeline_id === null ? null : await deps.notifications.previousOutcome(run.pipeline_id, run.branch, run.id);
    events = runEndEvents(run.status, previous);
    // A deployment that ran (not one rejected or cancelled at its gate) has finished, whatever its outcome.
    if (run.environment_name !== null && run.started_at !== null) events.push('deployment_finished');
  } else return 0;
  const occurredAt = (state === 'final' ? run.finished_at : null) ?? at;
  const channels = events.length === 0 ? [] : await deps.notifications.channelsFor(run.project_id, run.pipeline_id, events, occurredAt);
  return deps.transaction(async (tx) => {
    const repo = deps.notifications.in(tx);
    if (!(await repo.mark(run.id, state))) return 0;
    let written = 0;
    for (const channel of channels)
      for (const event of events.filter((e) => channel.events.includes(e))) {
        const id = await repo.enqueue({
          channelId: channel.id,
          runId: run.id,
          event,
          occurrence: `run:${run.id}:${event}`,
          payload: runPayload(run, event, occurredAt, deps.publicUrl),
          at,
        });
        if (id !== null) written++;
      }
    return written;
  });
}

export const runPageUrl = (publicUrl: string, runId: number) => `${publicUrl.replace(/\/+$/, '')}/runs/${runId}`;

export function runPayload(run: RunForNotification, event: NotificationEvent, occurredAt: string, publicUrl: string): NotificationPayload {
  const shown: NonNullable<NotificationPayload['run']> = {
    id: run.id,
    number: run.number,
    status: run.status,
    branch: run.branch,
    commit: run.commit,
    trigger: run.trigger.type,
    triggered_by: run.trigger.user?.username ?? run.trigger.author ?? null,
    reason: run.reason,
    url: runPageUrl(publicUrl, run.id),
    started_at: run.started_at,
    finished_at: run.finished_at,
  };
  return {
    event,
    occurred_at: occurredAt,
    project: { id: run.project_id, name: run.project_name },
    pipeline: { id: run.pipeline_id, name: run.pipeline_name },
    run: shown,
    environment: run.environment_name,
    summary: eventSummary(event, shown, run.pipeline_name, run.environment_name),
  };
}
