/**
 * The audit log at rest: append and read, nothing else (no update, no delete: retention is a
 * separate, operator-run concern). Pages are keyed by id (newest first), because the log only
 * grows and counting it for page numbers would cost more with every event.
 */
import { CompiledQuery, sql, type Insertable, type Kysely } from 'kysely';
import type { AuditEventRow, AuditEventsTable, Database } from './schema.js';
import { isEmptyDiff, type AuditDiff, type AuditEntry } from '../domain/audit.js';

export interface AuditEvent {
  id: number;
  at: string;
  actor: { id: number | null; username: string } | null;
  source_ip: string | null;
  user_agent: string | null;
  action: string;
  target: { type: string; id: string | null; name: string | null };
  project_id: number | null;
  diff: AuditDiff | null;
}

export interface AuditFilter {
  actorId?: number;
  actorUsername?: string;
  projectId?: number;
  /** Only events of these projects (what a maintainer may read); an empty list matches nothing. */
  projectIds?: number[];
  targetType?: string;
  targetId?: string;
  /** Exact, or a prefix ending in `.*` (`pipeline.*`). */
  action?: string;
  since?: string;
  until?: string;
  /** Events older than this id (the previous page's last). */
  before?: number;
}

const toEvent = (row: Omit<AuditEventRow, 'indexed'>): AuditEvent => ({
  id: Number(row.id),
  at: row.at,
  actor: row.actor_username === null ? null : { id: row.actor_id, username: row.actor_username },
  source_ip: row.source_ip,
  user_agent: row.user_agent,
  action: row.action,
  target: { type: row.target_type, id: row.target_id, name: row.target_name },
  project_id: row.project_id,
  diff: row.diff === null ? null : (JSON.parse(row.diff) as AuditDiff),
});

/**
 * SQLite's batched index upkeep (migration 026): events are written unindexed (`indexed = 0`), and
 * the rows above `mark` (the newest id known indexed) are indexed together every INDEX_EVERY
 * events and before a read that filters by target or project. Shared by a repository and its
 * transaction-bound copies.
 */
interface BatchedIndexes {
  /** The database outside any transaction: the catch-up runs as its own statement. */
  root: Kysely<Database>;
  /** Every row up to this id is indexed; null until read. */
  mark: number | null;
  /** Events written by this process since the last catch-up. */
  pending: number;
  /** The catch-up in flight, so concurrent callers wait for it instead of running another. */
  running: Promise<void> | null;
}

/** How many events this process writes before it indexes them (one statement for all of them). */
export const INDEX_EVERY = 128;

/** What a repository shares with its transaction-bound copies. */
interface Shared {
  /** The compiled insert (its text carries the dialect's own placeholders). */
  insert?: Omit<CompiledQuery, 'parameters'>;
  /** SQLite: the batched index upkeep; null where each insert keeps the indexes (PostgreSQL). */
  batched: BatchedIndexes | null;
}

export class AuditEventsRepository {
  private readonly shared: Shared;

  constructor(
    private readonly db: Kysely<Database>,
    /** `batchedIndexes`: SQLite, whose indexes migration 026 made partial. */
    options: { batchedIndexes?: boolean } = {},
    shared?: Shared,
  ) {
    this.shared = shared ?? { batched: options.batchedIndexes ? { root: db, mark: null, pending: 0, running: null } : null };
  }

  in(tx: Kysely<Database>): AuditEventsRepository {
    return new AuditEventsRepository(tx, {}, this.shared);
  }

  /**
   * Appends one event. It runs inside the change's transaction, on every audited request, so the
   * statement is built once (Kysely's builder cost more than the insert itself) and reused with
   * new parameters; the compiled text carries the dialect's own placeholders.
   */
  async insert(entry: AuditEntry, at: string): Promise<void> {
    await this.db.executeQuery(this.insertStatement(entry, at));
  }

  /** The INSERT of one event, for a writer that runs it with the change (store/statement-writer.ts). */
  insertStatement(entry: AuditEntry, at: string): CompiledQuery {
    const row = this.rowOf(entry, at);
    this.written(1);
    const insert = (this.shared.insert ??= CompiledQuery.raw(this.db.insertInto('audit_events').values(row).compile().sql));
    // The same statement with this event's values; CompiledQuery.raw would build and freeze a new
    // query node and id for every event (no plugin here reads them).
    return { sql: insert.sql, query: insert.query, queryId: insert.queryId, parameters: Object.values(row) };
  }

  /** The row of an event: unindexed where indexes are kept up in batches. */
  private rowOf(entry: AuditEntry, at: string): Insertable<AuditEventsTable> {
    const row = toRow(entry, at);
    if (this.shared.batched) row.indexed = 0;
    return row;
  }

  /** Counts events written; every INDEX_EVERY, indexes them after the current turn (their own statement, off the change's commit). */
  private written(n: number): void {
    const batched = this.shared.batched;
    if (!batched) return;
    batched.pending += n;
    if (batched.pending < INDEX_EVERY || batched.running) return;
    batched.pending = 0;
    setImmediate(() => void this.indexPending().catch(() => {}));
  }

  /**
   * Indexes every event not yet indexed (SQLite; nothing to do on PostgreSQL): the rows above the
   * mark, read by id, set to `indexed = 1` in one statement. A read that filters by target or
   * project calls it first, so it sees every event committed before it began (or, when it joins a
   * catch-up already running, before that one began: a few milliseconds at most).
   */
  indexPending(): Promise<void> {
    const batched = this.shared.batched;
    if (!batched) return Promise.resolve();
    if (batched.running) return batched.running;
    const run = (async () => {
      const db = batched.root;
      // NOT INDEXED: newest first by the rowid, stopping at the first indexed row (the partial
      // indexes hold the rowid too, and walking one of them would read every indexed event).
      batched.mark ??=
        (await sql<{ id: number }>`select id from audit_events not indexed where indexed = 1 order by id desc limit 1`.execute(db)).rows[0]?.id ?? 0;
      const top = (await sql<{ id: number | null }>`select max(id) as id from audit_events`.execute(db)).rows[0]?.id ?? 0;
      if (top > batched.mark) await sql`update audit_events set indexed = 1 where id > ${batched.mark} and id <= ${top} and indexed = 0`.execute(db);
      batched.mark = Math.max(batched.mark, top);
    })().finally(() => {
      batched.running = null;
    });
    batched.running = run;
    return run;
  }

  /** Several events in one statement (the runs the scheduler starts together). */
  async insertMany(entries: readonly AuditEntry[], at: string): Promise<void> {
    if (entries.length === 0) return;
    await this.db
      .insertInto('audit_events')
      .values(entries.map((e) => this.rowOf(e, at)))
      .execute();
    this.written(entries.length);
  }

  /**
   * Removes up to `limit` of the oldest events written before `cutoff` (retention), never the
   * newest event: SQLite gives a new row the largest id plus one, so keeping the newest keeps ids
   * from ever being reused, and exports keyed by id stay unambiguous. Reads the oldest rows by the
   * primary key and stops at the first one inside the window, so a sweep costs what it removes,
   * not the size of the log. Returns how many were removed.
   */
  async pruneOlderThan(cutoff: string, limit: number): Promise<number> {
    const newest = await this.db.selectFrom('audit_events').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
    if (!newest) return 0;
    const oldest = await this.db.selectFrom('audit_events').select(['id', 'at']).where('id', '<', newest.id).orderBy('id', 'asc').limit(limit).execute();
    const expired: number[] = [];
    for (const row of oldest) {
      if (row.at >= cutoff) break;
      expired.push(Number(row.id));
    }
    if (expired.length === 0) return 0;
    const result = await this.db.deleteFrom('audit_events').where('id', 'in', expired).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Up to `limit` events matching the filter, newest first. */
  async list(filter: AuditFilter, limit: number): Promise<AuditEvent[]> {
    let q = this.db.selectFrom('audit_events').select(COLUMNS);
    const byIndex = filter.targetType !== undefined || filter.targetId !== undefined || filter.projectId !== undefined || filter.projectIds !== undefined;
    if (byIndex && this.shared.batched) {
      await this.indexPending();
      // Written as a literal: SQLite uses a partial index only for a term it can match to the index's own.
      q = q.where(sql<boolean>`indexed = 1`);
    }
    if (filter.actorId !== undefined) q = q.where('actor_id', '=', filter.actorId);
    if (filter.actorUsername !== undefined) q = q.where('actor_username', '=', filter.actorUsername);
    if (filter.projectId !== undefined) q = q.where('project_id', '=', filter.projectId);
    if (filter.projectIds !== undefined) {
      if (filter.projectIds.length === 0) return [];
      q = q.where('project_id', 'in', filter.projectIds);
    }
    if (filter.targetType !== undefined) q = q.where('target_type', '=', filter.targetType);
    if (filter.targetId !== undefined) q = q.where('target_id', '=', filter.targetId);
    if (filter.action !== undefined) {
      if (filter.action.endsWith('.*')) {
        const prefix = filter.action.slice(0, -1);
        // Compared as a range, not LIKE: action names may hold `_`, and a range uses the column as is.
        q = q.where('action', '>=', prefix).where('action', '<', prefix.slice(0, -1) + '/');
      } else q = q.where('action', '=', filter.action);
    }
    if (filter.since !== undefined) q = q.where('at', '>=', filter.since);
    if (filter.until !== undefined) q = q.where('at', '<', filter.until);
    if (filter.before !== undefined) q = q.where('id', '<', filter.before);
    const rows = await q.orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toEvent);
  }

  /** Every matching event, newest first, read in batches (for exports of any size). */
  async *stream(filter: AuditFilter, batch = 500): AsyncGenerator<AuditEvent> {
    let before = filter.before;
    for (;;) {
      const events = await this.list({ ...filter, ...(before !== undefined ? { before } : {}) }, batch);
      yield* events;
      if (events.length < batch) return;
      before = events[events.length - 1]!.id;
    }
  }
}

/** The columns an event is read with (not `indexed`, the store's own bookkeeping). */
const COLUMNS = [
  'id',
  'at',
  'actor_id',
  'actor_username',
  'source_ip',
  'user_agent',
  'action',
  'target_type',
  'target_id',
  'target_name',
  'project_id',
  'diff',
] as const;

function toRow(entry: AuditEntry, at: string): Insertable<AuditEventsTable> {
  return {
    at,
    actor_id: entry.actor?.id ?? null,
    actor_username: entry.actor?.username ?? null,
    source_ip: entry.origin?.ip ?? null,
    user_agent: entry.origin?.userAgent?.slice(0, 512) ?? null,
    action: entry.action,
    target_type: entry.target.type,
    target_id: entry.target.id === null ? null : String(entry.target.id),
    target_name: entry.target.name,
    project_id: entry.projectId ?? null,
    diff: entry.diff && !isEmptyDiff(entry.diff) ? JSON.stringify(entry.diff) : null,
  };
}
