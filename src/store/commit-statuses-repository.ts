/**
 * The commit status outbox (migration 013). A row is written when a run reaches a rank (0 queued,
 * 1 running, 2 final); the unique (run_id, rank) index makes that idempotent, so every process
 * that hears of a run's change may write it. Rows are then worked in rank order per run:
 *   - a row with a higher rank beside it is never sent (`superseded`) unless it is being sent;
 *   - a row is due only while no lower-ranked row of its run is still pending (being sent), so
 *     two states of one run are never in flight at once and never arrive out of order;
 *   - a sender claims a row with a guarded UPDATE and a lease, so one process sends it; a sender
 *     that died leaves a claim that expires and the row becomes due again.
 */
import { sql, type Kysely } from 'kysely';
import type { CommitStatusRow, Database } from './schema.js';
import type { CommitStatusOutcome, Forge } from '../domain/commit-status.js';
import type { RunStatus } from '../domain/status.js';
import type { PipelineDefinition } from '../domain/pipeline.js';
import type { RunTrigger } from './runs-repository.js';
import { claimOutboxRow } from './outbox-claim.js';

export interface CommitStatus {
  id: number;
  run_id: number;
  rank: number;
  provider: Forge;
  api_url: string;
  repository: string;
  sha: string;
  context: string;
  state: string;
  description: string;
  target_url: string;
  outcome: CommitStatusOutcome;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  last_status_code: number | null;
  created_at: string;
  delivered_at: string | null;
}

export interface NewCommitStatus {
  runId: number;
  rank: number;
  provider: Forge;
  apiUrl: string;
  repository: string;
  sha: string;
  context: string;
  state: string;
  description: string;
  targetUrl: string;
  at: string;
  /** A status that cannot be sent at all (no token, no repository): stored as failed, with why. */
  failed?: string;
}

/** What a status of a run is made from (no secrets, no steps). */
export interface RunForStatus {
  id: number;
  pipeline_id: number | null;
  project_id: number;
  pipeline_name: string;
  status: RunStatus;
  trigger: RunTrigger;
  commit: string | null;
  repository_url: string | null;
  error_reason: string | null;
  cancel_reason: string | null;
}

const toStatus = (row: CommitStatusRow): CommitStatus => ({
  id: row.id,
  run_id: row.run_id,
  rank: row.rank,
  provider: row.provider as Forge,
  api_url: row.api_url,
  repository: row.repository,
  sha: row.sha,
  context: row.context,
  state: row.state,
  description: row.description,
  target_url: row.target_url,
  outcome: row.outcome as CommitStatusOutcome,
  attempts: row.attempts,
  next_attempt_at: row.next_attempt_at,
  last_error: row.last_error,
  last_status_code: row.last_status_code,
  created_at: row.created_at,
  delivered_at: row.delivered_at,
});

/** The rank a run's status has reached, in SQL (see domain/commit-status.ts). */
const reachedRank = sql<number>`case pipeline_runs.status when 'waiting' then 0 when 'queued' then 0 when 'running' then 1 else 2 end`;

export class CommitStatusesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Writes the status unless the run already has one of this rank; supersedes lower unsent ones. */
  async record(status: NewCommitStatus): Promise<boolean> {
    const inserted = await this.db
      .insertInto('commit_statuses')
      .values({
        run_id: status.runId,
        rank: status.rank,
        provider: status.provider,
        api_url: status.apiUrl,
        repository: status.repository,
        sha: status.sha,
        context: status.context,
        state: status.state,
        description: status.description,
        target_url: status.targetUrl,
        outcome: status.failed ? 'failed' : 'pending',
        attempts: 0,
        next_attempt_at: status.at,
        claimed_by: null,
        claim_expires_at: null,
        last_error: status.failed ?? null,
        last_status_code: null,
        created_at: status.at,
        delivered_at: null,
      })
      .onConflict((oc) => oc.columns(['run_id', 'rank']).doNothing())
      .executeTakeFirst();
    await this.supersede(status.at, status.runId);
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Unclaimed pending rows with a higher-ranked row beside them will never be sent. */
  async supersede(now: string, runId?: number): Promise<void> {
    let q = this.db
      .updateTable('commit_statuses')
      .set({ outcome: 'superseded', claimed_by: null, claim_expires_at: null })
      .where('outcome', '=', 'pending')
      .where((eb) => eb.or([eb('claimed_by', 'is', null), eb('claim_expires_at', '<', now)]))
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('commit_statuses as later')
            .select('later.id')
            .whereRef('later.run_id', '=', 'commit_statuses.run_id')
            .whereRef('later.rank', '>', 'commit_statuses.rank'),
        ),
      );
    if (runId !== undefined) q = q.where('run_id', '=', runId);
    await q.execute();
  }

  /** Rows ready to send: due, unclaimed (or the claim expired), the highest of their run, nothing of the run in flight. */
  async due(now: string, limit: number): Promise<CommitStatus[]> {
    const rows = await this.db
      .selectFrom('commit_statuses')
      .selectAll()
      .where('outcome', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('claimed_by', 'is', null), eb('claim_expires_at', '<', now)]))
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('commit_statuses as other')
              .select('other.id')
              .whereRef('other.run_id', '=', 'commit_statuses.run_id')
              .where((eb) =>
                eb.or([
                  eb('other.rank', '>', eb.ref('commit_statuses.rank')),
                  eb.and([eb('other.rank', '<', eb.ref('commit_statuses.rank')), eb('other.outcome', '=', 'pending')]),
                ]),
              ),
          ),
        ),
      )
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toStatus);
  }

  /** Takes the row for `owner` until `until`; false when another process has it or it is no longer pending. */
  claim(id: number, owner: string, now: string, until: string): Promise<boolean> {
    return claimOutboxRow(this.db, 'commit_statuses', id, owner, now, until);
  }

  async delivered(id: number, owner: string, at: string, statusCode: number): Promise<void> {
    await this.settle(id, owner, { outcome: 'delivered', delivered_at: at, last_status_code: statusCode, last_error: null });
  }

  async retryLater(id: number, owner: string, nextAttemptAt: string, error: string, statusCode: number | null): Promise<void> {
    await this.settle(id, owner, { outcome: 'pending', next_attempt_at: nextAttemptAt, last_error: error, last_status_code: statusCode });
  }

  async failed(id: number, owner: string, error: string, statusCode: number | null): Promise<void> {
    await this.settle(id, owner, { outcome: 'failed', last_error: error, last_status_code: statusCode });
  }

  /** Only the claim's holder settles it (a sender whose claim expired and was taken over does not). */
  private async settle(
    id: number,
    owner: string,
    fields: Partial<Pick<CommitStatusRow, 'outcome' | 'delivered_at' | 'next_attempt_at' | 'last_error' | 'last_status_code'>>,
  ) {
    await this.db
      .updateTable('commit_statuses')
      .set({ ...fields, claimed_by: null, claim_expires_at: null })
      .where('id', '=', id)
      .where('claimed_by', '=', owner)
      .execute();
  }

  async forRun(runId: number): Promise<CommitStatus[]> {
    const rows = await this.db.selectFrom('commit_statuses').selectAll().where('run_id', '=', runId).orderBy('rank').execute();
    return rows.map(toStatus);
  }

  /** The fields a status is made from, or null when the run does not exist. */
  async runForStatus(runId: number): Promise<RunForStatus | null> {
    const row = await this.db
      .selectFrom('pipeline_runs')
      .select(['id', 'pipeline_id', 'project_id', 'pipeline_name', 'status', 'trigger', 'commit_sha', 'definition', 'error_reason', 'cancel_reason'])
      .where('id', '=', runId)
      .executeTakeFirst();
    if (!row) return null;
    return {
      id: row.id,
      pipeline_id: row.pipeline_id,
      project_id: row.project_id,
      pipeline_name: row.pipeline_name,
      status: row.status as RunStatus,
      trigger: JSON.parse(row.trigger) as RunTrigger,
      commit: row.commit_sha,
      repository_url: (JSON.parse(row.definition) as PipelineDefinition).repository_url ?? null,
      error_reason: row.error_reason,
      cancel_reason: row.cancel_reason,
    };
  }

  /** The forge credential the run's pipeline names (in the pipeline's project), or null. */
  async forgeCredentialOf(runId: number): Promise<{ name: string; projectId: number } | null> {
    const row = await this.db
      .selectFrom('pipeline_runs')
      .innerJoin('pipelines', 'pipelines.id', 'pipeline_runs.pipeline_id')
      .select(['pipelines.forge_credential', 'pipelines.project_id'])
      .where('pipeline_runs.id', '=', runId)
      .executeTakeFirst();
    return row?.forge_credential ? { name: row.forge_credential, projectId: row.project_id } : null;
  }

  /**
   * Webhook runs created since `since` whose current state has no status row yet (an event lost
   * on the way, a process that was down): the background loop writes them, so none is forgotten.
   */
  async runsWithoutStatus(since: string, limit: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('pipeline_runs')
      .select('pipeline_runs.id')
      .where('pipeline_runs.trigger_type', '=', 'webhook')
      .where('pipeline_runs.created_at', '>=', since)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('commit_statuses')
              .select('commit_statuses.id')
              .whereRef('commit_statuses.run_id', '=', 'pipeline_runs.id')
              .where('commit_statuses.rank', '>=', reachedRank),
          ),
        ),
      )
      .orderBy('pipeline_runs.id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }
}
