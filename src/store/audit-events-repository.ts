/**
 * The audit log at rest: append and read, nothing else (no update, no delete: retention is a
 * separate, operator-run concern). Pages are keyed by id (newest first), because the log only
 * grows and counting it for page numbers would cost more with every event.
 */
import { CompiledQuery, type Insertable, type Kysely } from 'kysely';
import type { AuditEventRow, AuditEventsTable, Database } from './schema.js';
import type { AuditDiff, AuditEntry } from '../domain/audit.js';

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

const toEvent = (row: AuditEventRow): AuditEvent => ({
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

export class AuditEventsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    /** The compiled insert, shared by this repository and its transaction-bound copies. */
    private readonly compiled: { text?: string } = {},
  ) {}

  in(tx: Kysely<Database>): AuditEventsRepository {
    return new AuditEventsRepository(tx, this.compiled);
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
    const row = toRow(entry, at);
    const text = (this.compiled.text ??= this.db.insertInto('audit_events').values(row).compile().sql);
    return CompiledQuery.raw(text, Object.values(row));
  }

  /** Several events in one statement (the runs the scheduler starts together). */
  async insertMany(entries: readonly AuditEntry[], at: string): Promise<void> {
    if (entries.length === 0) return;
    await this.db
      .insertInto('audit_events')
      .values(entries.map((e) => toRow(e, at)))
      .execute();
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
    let q = this.db.selectFrom('audit_events').selectAll();
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
    diff: entry.diff && Object.keys(entry.diff).length > 0 ? JSON.stringify(entry.diff) : null,
  };
}
