/**
 * Webhook deliveries. The unique index on (provider, delivery_key) is the deduplication: the
 * first insert of a key wins, every later one (even a concurrent one, in another process) finds
 * the row instead. A row is inserted before the provider gets its answer and completed once its
 * runs exist (`completed_at`).
 */
import { sql, type Kysely } from 'kysely';
import type { Database, WebhookDeliveryRow } from './schema.js';
import { nowIso } from './time.js';
import { cappedCount, readWindow, type HistoryPage, type HistoryWindow } from './history-window.js';

export const VERDICTS = ['triggered', 'ignored', 'rejected'] as const;
export type Verdict = (typeof VERDICTS)[number];
export type Provider = 'github' | 'gitlab';

export interface Delivery {
  id: number;
  provider: Provider;
  delivery_id: string;
  event: string;
  action: string | null;
  repository: string | null;
  ref: string | null;
  commit: string | null;
  verdict: Verdict;
  reason: string | null;
  runs: number[];
  /** The projects of its runs (migration 009): who may read it besides admins. */
  project_ids: number[];
  received_at: string;
  completed_at: string | null;
}

/** What is needed to evaluate a delivery again (redeliver); never part of the API body. */
export interface StoredDelivery extends Delivery {
  headers: Record<string, string>;
  payload: string;
}

export interface NewDelivery {
  provider: Provider;
  deliveryKey: string;
  event: string;
  action: string | null;
  repository: string | null;
  ref: string | null;
  commit: string | null;
  verdict: Verdict;
  reason: string | null;
  headers: Record<string, string>;
  payload: string;
  /** false: runs are still to be created; complete() settles it. */
  complete: boolean;
}

export class DeliveriesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts unless the key exists; returns the new row's id, or null for a duplicate. */
  async insertIfNew(input: NewDelivery): Promise<number | null> {
    const now = nowIso();
    const row = await this.db
      .insertInto('webhook_deliveries')
      .values({
        provider: input.provider,
        delivery_key: input.deliveryKey,
        event: input.event,
        action: input.action,
        repository: input.repository,
        ref: input.ref,
        commit_sha: input.commit,
        verdict: input.verdict,
        reason: input.reason,
        run_ids: '[]',
        headers: JSON.stringify(input.headers),
        payload: input.payload,
        received_at: now,
        completed_at: input.complete ? now : null,
      })
      .onConflict((oc) => oc.columns(['provider', 'delivery_key']).doNothing())
      .returning('id')
      .executeTakeFirst();
    return row?.id ?? null;
  }

  async findByKey(provider: Provider, deliveryKey: string): Promise<Delivery | null> {
    const row = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('provider', '=', provider)
      .where('delivery_key', '=', deliveryKey)
      .executeTakeFirst();
    return row ? toDelivery(row) : null;
  }

  async findById(id: number): Promise<StoredDelivery | null> {
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? { ...toDelivery(row), headers: JSON.parse(row.headers) as Record<string, string>, payload: row.payload } : null;
  }

  /**
   * Records the outcome of an evaluation; `runIds` are added to those already recorded. The
   * delivery's projects become those of all its runs plus `projectIds` (the projects of the
   * pipelines of its repository, run or not) plus those it had.
   */
  async complete(id: number, outcome: { verdict: Verdict; reason: string | null; runIds: number[]; projectIds?: number[] }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('webhook_deliveries').select(['run_ids', 'project_ids']).where('id', '=', id).executeTakeFirst();
      const runs = [...(JSON.parse(row?.run_ids ?? '[]') as number[]), ...outcome.runIds];
      const ofRuns = runs.length === 0 ? [] : await trx.selectFrom('pipeline_runs').select('project_id').distinct().where('id', 'in', runs).execute();
      const before = (row?.project_ids ?? ',').split(',').filter(Boolean).map(Number);
      const projects = [...new Set([...before, ...ofRuns.map((r) => r.project_id), ...(outcome.projectIds ?? [])])].sort((a, b) => a - b);
      await trx
        .updateTable('webhook_deliveries')
        .set({
          verdict: outcome.verdict,
          reason: outcome.reason,
          run_ids: JSON.stringify(runs),
          project_ids: `,${projects.join(',')}${projects.length > 0 ? ',' : ''}`,
          completed_at: nowIso(),
        })
        .where('id', '=', id)
        .execute();
    });
  }

  /**
   * A page of deliveries, newest first (store/history-window.ts). The unfiltered count is the
   * kept counter (migration 014); a filtered one stops at COUNT_CAP.
   */
  async list(filter: DeliveryFilter, window: HistoryWindow): Promise<HistoryPage<Delivery>> {
    const q = this.filtered(filter);
    // The payload can be megabytes: the list never reads it.
    const page = await readWindow(window, (w) => {
      let p = q.select(LIST_COLUMNS);
      if (w.bound) p = p.where('id', w.bound.op, w.bound.id);
      return p.orderBy('id', w.order).limit(w.limit).offset(w.offset).execute();
    });
    return { ...page, ...(await this.count(filter)), items: page.items.map(toDelivery) };
  }

  private filtered(filter: DeliveryFilter) {
    let q = this.db.selectFrom('webhook_deliveries');
    if (filter.project !== undefined) q = q.where('project_ids', 'like', `%,${filter.project},%`);
    if (filter.memberId !== undefined) {
      const userId = filter.memberId;
      q = q.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('project_members')
            .select('project_members.project_id')
            .where('project_members.user_id', '=', userId)
            .where(sql<boolean>`webhook_deliveries.project_ids like '%,' || project_members.project_id || ',%'`),
        ),
      );
    }
    if (filter.provider) q = q.where('provider', '=', filter.provider);
    if (filter.verdict) q = q.where('verdict', '=', filter.verdict);
    return q;
  }

  private async count(filter: DeliveryFilter): Promise<{ total: number; capped: boolean }> {
    if (Object.values(filter).every((v) => v === undefined)) {
      const row = await this.db.selectFrom('history_counters').select('value').where('name', '=', 'webhook_deliveries').executeTakeFirst();
      if (row) return { total: Number(row.value), capped: false };
    }
    return cappedCount(this.db, this.filtered(filter).select('id'));
  }
}

export interface DeliveryFilter {
  provider?: Provider;
  verdict?: Verdict;
  project?: number;
  memberId?: number;
}

const LIST_COLUMNS = [
  'id',
  'provider',
  'delivery_key',
  'event',
  'action',
  'repository',
  'ref',
  'commit_sha',
  'verdict',
  'reason',
  'run_ids',
  'project_ids',
  'received_at',
  'completed_at',
] as const;

function toDelivery(row: Omit<WebhookDeliveryRow, 'headers' | 'payload'>): Delivery {
  return {
    id: row.id,
    provider: row.provider as Provider,
    delivery_id: row.delivery_key,
    event: row.event,
    action: row.action,
    repository: row.repository,
    ref: row.ref,
    commit: row.commit_sha,
    verdict: row.verdict as Verdict,
    reason: row.reason,
    runs: JSON.parse(row.run_ids) as number[],
    project_ids: row.project_ids.split(',').filter(Boolean).map(Number),
    received_at: row.received_at,
    completed_at: row.completed_at,
  };
}
