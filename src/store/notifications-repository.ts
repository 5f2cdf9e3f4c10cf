/**
 * Notification channels and their outbox (migrations 018 and 021).
 *
 * A channel's secret (a webhook's signing secret, a Slack incoming-webhook URL, an SMTP password)
 * is sealed like a credential's and selected only by `openSecret`, for the sender: no read of a
 * channel returns it.
 *
 * `notification_deliveries` is an outbox: one row per channel and event occurrence (unique, so
 * every API process that hears of a run may write its events and the first write wins). A sender
 * claims due rows with a guarded UPDATE and a lease, so one process sends each; a sender that died
 * leaves a claim that expires. Each attempt is appended to the row's `attempt_log` by the claim's
 * holder only, so the log it got with its claim is the row's until it settles.
 */
import { PostgresAdapter, type Kysely, type Selectable } from 'kysely';
import type { Database, NotificationChannelsTable, NotificationDeliveriesTable } from './schema.js';
import type { SecretBox } from './secret-box.js';
import type { NotificationConfig, NotificationEvent, NotificationKind, NotificationPayload } from '../domain/notifications.js';
import type { RunStatus } from '../domain/status.js';
import type { RunTrigger } from './runs-repository.js';
import { isUniqueViolation, memberProjects } from './pipelines-repository.js';
import { nowIso } from './time.js';

export interface NotificationChannel {
  id: number;
  project_id: number;
  name: string;
  kind: NotificationKind;
  config: NotificationConfig;
  /** Whether a secret is stored (it is never shown). */
  secret_set: boolean;
  events: NotificationEvent[];
  /** The pipelines it is for; null: every pipeline of the project. */
  pipelines: number[] | null;
  enabled: boolean;
  created_by: { id: number; username: string } | null;
  created_at: string;
  updated_at: string;
}

/** What a create or a replace writes; `secret` undefined keeps the stored one, null removes it. */
export interface ChannelFields {
  project_id: number;
  name: string;
  kind: NotificationKind;
  config: NotificationConfig;
  events: NotificationEvent[];
  pipelines: number[] | null;
  enabled: boolean;
  secret?: string | null;
}

export type DeliveryOutcome = 'pending' | 'delivered' | 'failed';

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  duration_ms: number;
  result: 'delivered' | 'retry' | 'failed';
  status_code: number | null;
  answer: string;
}

export interface NotificationDelivery {
  id: number;
  channel_id: number;
  run_id: number | null;
  event: NotificationPayload['event'];
  payload: NotificationPayload;
  outcome: DeliveryOutcome;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  last_status_code: number | null;
  attempt_log: DeliveryAttempt[];
  created_at: string;
  delivered_at: string | null;
}

/** What a run's notifications are made from. */
export interface RunForNotification {
  id: number;
  number: number;
  project_id: number;
  project_name: string;
  pipeline_id: number | null;
  pipeline_name: string;
  status: RunStatus;
  branch: string;
  commit: string | null;
  trigger: RunTrigger;
  environment_name: string | null;
  reason: string | null;
  started_at: string | null;
  finished_at: string | null;
  approved_at: string | null;
  notified: string | null;
}

type ChannelRow = Selectable<NotificationChannelsTable> & { creator_username: string | null };

const toChannel = (row: ChannelRow): NotificationChannel => ({
  id: row.id,
  project_id: row.project_id,
  name: row.name,
  kind: row.kind as NotificationKind,
  config: JSON.parse(row.config) as NotificationConfig,
  secret_set: row.secret !== null,
  events: JSON.parse(row.events) as NotificationEvent[],
  pipelines: row.pipeline_ids === null ? null : (JSON.parse(row.pipeline_ids) as number[]),
  enabled: row.enabled === 1,
  created_by: row.created_by !== null && row.creator_username !== null ? { id: row.created_by, username: row.creator_username } : null,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

const toDelivery = (row: Selectable<NotificationDeliveriesTable>): NotificationDelivery => ({
  id: row.id,
  channel_id: row.channel_id,
  run_id: row.run_id,
  event: row.event as NotificationDelivery['event'],
  payload: JSON.parse(row.payload) as NotificationPayload,
  outcome: row.outcome as DeliveryOutcome,
  attempts: row.attempts,
  next_attempt_at: row.next_attempt_at,
  last_error: row.last_error,
  last_status_code: row.last_status_code,
  attempt_log: JSON.parse(row.attempt_log) as DeliveryAttempt[],
  created_at: row.created_at,
  delivered_at: row.delivered_at,
});

export const FINAL_STATUSES = ['success', 'failed', 'cancelled', 'timeout', 'error'] as const;

export class NotificationsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly secrets: SecretBox,
  ) {}

  in(tx: Kysely<Database>): NotificationsRepository {
    return new NotificationsRepository(tx, this.secrets);
  }

  /** Every column but the secret, which only `openSecret` reads. */
  private select() {
    return (
      this.db
        .selectFrom('notification_channels')
        .leftJoin('users', 'users.id', 'notification_channels.created_by')
        .select([
          'notification_channels.id',
          'notification_channels.project_id',
          'notification_channels.name',
          'notification_channels.kind',
          'notification_channels.config',
          'notification_channels.events',
          'notification_channels.pipeline_ids',
          'notification_channels.enabled',
          'notification_channels.created_by',
          'notification_channels.created_at',
          'notification_channels.updated_at',
          'users.username as creator_username',
        ])
        // Whether a secret is stored, without reading it.
        .select((eb) => eb.case().when('notification_channels.secret', 'is', null).then(null).else('set').end().as('secret'))
    );
  }

  async findById(id: number): Promise<NotificationChannel | null> {
    const row = await this.select().where('notification_channels.id', '=', id).executeTakeFirst();
    return row ? toChannel(row as ChannelRow) : null;
  }

  async list(
    filter: { project?: number; memberId?: number },
    page: { limit: number; offset: number },
  ): Promise<{ total: number; items: NotificationChannel[] }> {
    let q = this.select();
    let count = this.db.selectFrom('notification_channels');
    if (filter.project !== undefined) {
      q = q.where('notification_channels.project_id', '=', filter.project);
      count = count.where('notification_channels.project_id', '=', filter.project);
    }
    if (filter.memberId !== undefined) {
      q = q.where('notification_channels.project_id', 'in', memberProjects(this.db, filter.memberId));
      count = count.where('notification_channels.project_id', 'in', memberProjects(this.db, filter.memberId));
    }
    const { n } = await count.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await q.orderBy('notification_channels.project_id').orderBy('notification_channels.name').limit(page.limit).offset(page.offset).execute();
    return { total: Number(n), items: rows.map((r) => toChannel(r as ChannelRow)) };
  }

  private columns(f: ChannelFields) {
    return {
      project_id: f.project_id,
      name: f.name,
      kind: f.kind,
      config: JSON.stringify(f.config),
      events: JSON.stringify(f.events),
      pipeline_ids: f.pipelines === null ? null : JSON.stringify(f.pipelines),
      enabled: f.enabled ? 1 : 0,
      ...(f.secret !== undefined ? { secret: f.secret === null ? null : this.secrets.seal(f.secret) } : {}),
    };
  }

  /** Null when the project already has a channel of that name. */
  async create(fields: ChannelFields, createdBy: number): Promise<NotificationChannel | null> {
    const now = nowIso();
    try {
      const { id } = await this.db
        .insertInto('notification_channels')
        .values({ secret: null, ...this.columns(fields), created_by: createdBy, created_at: now, updated_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      return this.findById(id);
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  /** 'conflict' when another channel of the project has the name; null when it is gone. */
  async update(id: number, fields: ChannelFields): Promise<NotificationChannel | 'conflict' | null> {
    try {
      const result = await this.db
        .updateTable('notification_channels')
        .set({ ...this.columns(fields), updated_at: nowIso() })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1 ? this.findById(id) : null;
    } catch (error) {
      if (isUniqueViolation(error)) return 'conflict';
      throw error;
    }
  }

  async delete(id: number): Promise<boolean> {
    const result = await this.db.deleteFrom('notification_channels').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** The channel's secret in the clear, for its sender (and for a replace that keeps a secret across a change). */
  async openSecret(id: number): Promise<string | null> {
    const row = await this.db.selectFrom('notification_channels').select('secret').where('id', '=', id).executeTakeFirst();
    return row?.secret ? this.secrets.open(row.secret) : null;
  }

  /** Enabled channels of the project that want any of `events` for this pipeline, made before `at`. */
  async channelsFor(projectId: number, pipelineId: number | null, events: NotificationEvent[], at: string): Promise<NotificationChannel[]> {
    const rows = await this.select()
      .where('notification_channels.project_id', '=', projectId)
      .where('notification_channels.enabled', '=', 1)
      .where('notification_channels.created_at', '<=', at)
      .execute();
    return rows
      .map((r) => toChannel(r as ChannelRow))
      .filter((c) => c.events.some((e) => events.includes(e)) && (c.pipelines === null || (pipelineId !== null && c.pipelines.includes(pipelineId))));
  }

  /** Whether the installation has a channel at all (else there is nothing to send). */
  async anyChannel(): Promise<boolean> {
    return (await this.db.selectFrom('notification_channels').select('id').limit(1).executeTakeFirst()) !== undefined;
  }

  /** Whether the project has an enabled channel at all (else a run's events are not even looked at). */
  async projectHasChannels(projectId: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('notification_channels')
      .select('id')
      .where('project_id', '=', projectId)
      .where('enabled', '=', 1)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Which of these pipeline ids are pipelines of the project (the rest are 400s). */
  async pipelinesOf(projectId: number, ids: number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('pipelines').select('id').where('project_id', '=', projectId).where('id', 'in', ids).execute();
    return rows.map((r) => r.id);
  }

  async projectName(projectId: number): Promise<string> {
    const row = await this.db.selectFrom('projects').select('name').where('id', '=', projectId).executeTakeFirst();
    return row?.name ?? String(projectId);
  }

  async runForNotification(runId: number): Promise<RunForNotification | null> {
    const row = await this.db
      .selectFrom('pipeline_runs')
      .innerJoin('projects', 'projects.id', 'pipeline_runs.project_id')
      .select([
        'pipeline_runs.id',
        'pipeline_runs.number',
        'pipeline_runs.project_id',
        'projects.name as project_name',
        'pipeline_runs.pipeline_id',
        'pipeline_runs.pipeline_name',
        'pipeline_runs.status',
        'pipeline_runs.branch',
        'pipeline_runs.commit_sha',
        'pipeline_runs.trigger',
        'pipeline_runs.environment_name',
        'pipeline_runs.error_reason',
        'pipeline_runs.cancel_reason',
        'pipeline_runs.started_at',
        'pipeline_runs.finished_at',
        'pipeline_runs.approved_at',
        'pipeline_runs.notified',
      ])
      .where('pipeline_runs.id', '=', runId)
      .executeTakeFirst();
    if (!row) return null;
    return {
      id: row.id,
      number: row.number,
      project_id: row.project_id,
      project_name: row.project_name,
      pipeline_id: row.pipeline_id,
      pipeline_name: row.pipeline_name,
      status: row.status as RunStatus,
      branch: row.branch,
      commit: row.commit_sha,
      trigger: JSON.parse(row.trigger) as RunTrigger,
      environment_name: row.environment_name,
      reason: row.cancel_reason ?? row.error_reason,
      started_at: row.started_at,
      finished_at: row.finished_at,
      approved_at: row.approved_at,
      notified: row.notified,
    };
  }

  /** The outcome of the pipeline's latest finished run on the branch before `beforeId` (cancelled runs do not count), or null. */
  async previousOutcome(pipelineId: number, branch: string, beforeId: number): Promise<RunStatus | null> {
    const row = await this.db
      .selectFrom('pipeline_runs')
      .select('status')
      .where('pipeline_id', '=', pipelineId)
      .where('branch', '=', branch)
      .where('id', '<', beforeId)
      .where('status', 'in', ['success', 'failed', 'timeout', 'error'])
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return (row?.status as RunStatus | undefined) ?? null;
  }

  /**
   * Marks the run's state as written (`waiting` or `final`); false when another process did first
   * (then it wrote the same deliveries, which the unique index would have kept once anyway).
   */
  async mark(runId: number, state: 'waiting' | 'final'): Promise<boolean> {
    const result = await this.db
      .updateTable('pipeline_runs')
      .set({ notified: state })
      .where('id', '=', runId)
      .where((eb) => (state === 'final' ? eb.or([eb('notified', 'is', null), eb('notified', '<>', 'final')]) : eb('notified', 'is', null)))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Writes a delivery unless the channel already has this occurrence; returns its id, or null. */
  async enqueue(d: {
    channelId: number;
    runId: number | null;
    event: NotificationPayload['event'];
    occurrence: string;
    payload: NotificationPayload;
    at: string;
  }): Promise<number | null> {
    const inserted = await this.db
      .insertInto('notification_deliveries')
      .values({
        channel_id: d.channelId,
        run_id: d.runId,
        event: d.event,
        occurrence: d.occurrence,
        payload: JSON.stringify(d.payload),
        outcome: 'pending',
        attempts: 0,
        next_attempt_at: d.at,
        claimed_by: null,
        claim_expires_at: null,
        last_error: null,
        last_status_code: null,
        attempt_log: '[]',
        created_at: d.at,
        delivered_at: null,
      })
      .onConflict((oc) => oc.columns(['channel_id', 'occurrence']).doNothing())
      .returning('id')
      .executeTakeFirst();
    return inserted?.id ?? null;
  }

  /**
   * Runs among the newest `window` whose events nobody wrote (an event lost on the way, every
   * process down when it happened), in projects that have an enabled channel: waiting for approval
   * since `since`, or finished since `since`.
   */
  async unnotifiedRuns(since: string, window: number, limit: number): Promise<number[]> {
    const newest = await this.db
      .selectFrom('pipeline_runs')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirst();
    const floor = Number(newest?.id ?? 0) - window;
    const rows = await this.db
      .selectFrom('pipeline_runs')
      .select('id')
      .where('id', '>', floor)
      .where('project_id', 'in', (eb) => eb.selectFrom('notification_channels').select('project_id').where('enabled', '=', 1))
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'waiting'), eb('notified', 'is', null), eb('approved_at', 'is', null), eb('waiting_since', '>=', since)]),
          eb.and([eb('status', 'in', [...FINAL_STATUSES]), eb.or([eb('notified', 'is', null), eb('notified', '<>', 'final')]), eb('finished_at', '>=', since)]),
        ]),
      )
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * Takes up to `limit` due deliveries (oldest due first) for `owner` until `until`, counting an
   * attempt on each, in ONE statement, and returns them as claimed. On PostgreSQL the candidates are
   * locked with FOR UPDATE SKIP LOCKED: a row another process is claiming is skipped (the next due
   * one is taken instead), a row it claimed meanwhile is re-checked and left; SQLite has one writer,
   * so its UPDATE is the claim. The guards are repeated on the UPDATE itself.
   */
  async claimDue(owner: string, now: string, until: string, limit: number): Promise<NotificationDelivery[]> {
    if (limit <= 0) return [];
    const postgres = this.db.getExecutor().adapter instanceof PostgresAdapter;
    const rows = await this.db
      .updateTable('notification_deliveries')
      .set((eb) => ({ claimed_by: owner, claim_expires_at: until, attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', (eb) => {
        const due = eb
          .selectFrom('notification_deliveries as due')
          .select('due.id')
          .where('due.outcome', '=', 'pending')
          .where('due.next_attempt_at', '<=', now)
          .where((w) => w.or([w('due.claimed_by', 'is', null), w('due.claim_expires_at', '<', now)]))
          .orderBy('due.next_attempt_at')
          .orderBy('due.id')
          .limit(limit);
        return postgres ? due.forUpdate().skipLocked() : due;
      })
      .where('outcome', '=', 'pending')
      .where((eb) => eb.or([eb('claimed_by', 'is', null), eb('claim_expires_at', '<', now)]))
      .returningAll()
      .execute();
    // RETURNING keeps no order: oldest due first, as they were chosen.
    return rows.map(toDelivery).sort((a, b) => (a.next_attempt_at < b.next_attempt_at ? -1 : a.next_attempt_at > b.next_attempt_at ? 1 : a.id - b.id));
  }

  /** Takes the pending row `id` for `owner` until `until` (one statement) and returns it as claimed; null when another process has it or it is settled. */
  async claimOne(id: number, owner: string, now: string, until: string): Promise<NotificationDelivery | null> {
    const row = await this.db
      .updateTable('notification_deliveries')
      .set((eb) => ({ claimed_by: owner, claim_expires_at: until, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .where('outcome', '=', 'pending')
      .where((eb) => eb.or([eb('claimed_by', 'is', null), eb('claim_expires_at', '<', now)]))
      .returningAll()
      .executeTakeFirst();
    return row ? toDelivery(row) : null;
  }

  /**
   * Records an attempt and settles the row, in one statement, if `owner` still holds it. `claimed`
   * is the row as its claim returned it: only the claim's holder appends to the log, so its
   * `attempt_log` is still the row's (a claim that expired and was taken over matches no row here).
   */
  async settle(
    claimed: Pick<NotificationDelivery, 'id' | 'attempt_log'>,
    owner: string,
    attempt: DeliveryAttempt,
    next: { outcome: DeliveryOutcome; nextAttemptAt?: string },
  ): Promise<void> {
    const log = [...claimed.attempt_log, attempt].slice(-MAX_LOGGED_ATTEMPTS);
    await this.db
      .updateTable('notification_deliveries')
      .set({
        outcome: next.outcome,
        ...(next.nextAttemptAt ? { next_attempt_at: next.nextAttemptAt } : {}),
        last_error: attempt.result === 'delivered' ? null : attempt.answer,
        last_status_code: attempt.status_code,
        attempt_log: JSON.stringify(log),
        delivered_at: attempt.result === 'delivered' ? attempt.at : null,
        claimed_by: null,
        claim_expires_at: null,
      })
      .where('id', '=', claimed.id)
      .where('claimed_by', '=', owner)
      .execute();
  }

  async findDelivery(id: number): Promise<NotificationDelivery | null> {
    const row = await this.db.selectFrom('notification_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toDelivery(row) : null;
  }

  /** A channel's deliveries, newest first. */
  async deliveries(channelId: number, page: { limit: number; offset: number }): Promise<{ total: number; items: NotificationDelivery[] }> {
    const { n } = await this.db
      .selectFrom('notification_deliveries')
      .where('channel_id', '=', channelId)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const rows = await this.db
      .selectFrom('notification_deliveries')
      .selectAll()
      .where('channel_id', '=', channelId)
      .orderBy('id', 'desc')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    return { total: Number(n), items: rows.map(toDelivery) };
  }
}

/** A delivery keeps its latest attempts (its retries are bounded well below this). */
const MAX_LOGGED_ATTEMPTS = 20;
