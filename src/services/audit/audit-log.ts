/**
 * The audit recorder. A change and its event are written in ONE transaction (`change`), so there
 * is no change without its event; events without a change (a login, a failed login) are written
 * alone (`recordAlone`). Callers pass views whose secrets are wrapped in `Redacted` (domain/audit).
 */
import type { CompiledQuery } from 'kysely';
import type { AuditEntry, AuditTarget, AuditDiff, AuditActor } from '../../domain/audit.js';
import type { Actor } from '../../domain/roles.js';
import type { Decision } from '../../domain/permissions.js';
import { notFound, permissionDenied } from '../../domain/errors.js';
import type { AuditEventsRepository, AuditFilter } from '../../store/audit-events-repository.js';
import type { StoreTx, Transactor } from '../../store/transaction.js';
import { nowIso } from '../../store/time.js';

/**
 * Writes an event in the change's transaction. The entry may be given as a function: it is then
 * built only when there is a log to write it to (a service without an audit log builds no views
 * and no diff, so what the event costs can be measured against an update that does no audit work).
 */
export type RecordEvent = (entry: AuditEntry | (() => AuditEntry)) => Promise<void>;

/**
 * How much of the log an actor reads, from the permission policy (services/projects/project-access.ts):
 * everything (`read_audit_log`: admins) or their projects' events (`read_audit`: maintainers, owners).
 * Without it, only admins read the log.
 */
export interface AuditAccess {
  auditScope(actor: Actor): Promise<'all' | number[]>;
  decision(actor: Actor, projectId: number, action: 'read_audit'): Promise<Decision>;
}

export class AuditLog {
  constructor(
    private readonly events: AuditEventsRepository,
    private readonly transact: Transactor,
    private readonly access: AuditAccess | null = null,
  ) {}

  /**
   * The restriction on what `actor` reads of the log: none (the whole log) or some projects. A
   * `project` asked for that the actor may not read is a 404 (a member below maintainer: 403);
   * an actor who reads no project's events is a 403.
   */
  async readableBy(actor: Actor, project?: number): Promise<Pick<AuditFilter, 'projectIds'>> {
    const scope = this.access ? await this.access.auditScope(actor) : actor.role === 'admin' ? 'all' : [];
    if (scope === 'all') return {};
    if (project !== undefined && !scope.includes(project)) {
      const decision = this.access ? await this.access.decision(actor, project, 'read_audit') : 'hide';
      if (decision === 'hide') throw notFound('Project');
      if (decision === 'deny') throw permissionDenied("Only this project's maintainers and owners may read its audit events");
      return { projectIds: [project] };
    }
    if (scope.length === 0) throw permissionDenied('Only administrators and project maintainers can read the audit log');
    return { projectIds: scope };
  }

  /**
   * Runs `work` in one transaction: its repositories bound to `tx` (`repo.in(tx)`), its events
   * written through `record`. Either all of it commits or none.
   */
  change<T>(work: (tx: StoreTx, record: RecordEvent) => Promise<T>): Promise<T> {
    return this.transact((tx) => work(tx, (entry) => this.record(tx, typeof entry === 'function' ? entry() : entry)));
  }

  /**
   * The event's INSERT, for a change that writes it with itself in one transaction (the pipeline
   * update: PipelinesRepository.update's `thenWrite`); `at` is the change's own time when it has one.
   */
  eventStatement(entry: AuditEntry, at = nowIso()): CompiledQuery {
    return this.events.insertStatement(entry, at);
  }

  /** Writes an event inside a transaction someone else opened (e.g. the run's own). */
  record(tx: StoreTx, entry: AuditEntry): Promise<void> {
    return this.events.in(tx).insert(entry, nowIso());
  }

  /** Several events inside a transaction someone else opened, in one statement. */
  recordMany(tx: StoreTx, entries: readonly AuditEntry[]): Promise<void> {
    return this.events.in(tx).insertMany(entries, nowIso());
  }

  /** An event that goes with no change of ours (logins). */
  recordAlone(entry: AuditEntry): Promise<void> {
    return this.events.insert(entry, nowIso());
  }

  /**
   * Retention: removes up to `limit` events older than `cutoff` and, in the same transaction, writes
   * an `audit.prune` event saying how many went and up to when, so the log itself shows that it
   * was shortened and by whom (the sweeper: no actor). Returns how many were removed.
   */
  prune(cutoff: string, limit: number): Promise<number> {
    return this.change(async (tx, record) => {
      const removed = await this.events.in(tx).pruneOlderThan(cutoff, limit);
      if (removed > 0)
        await record({
          action: 'audit.prune',
          actor: null,
          origin: null,
          target: { type: 'audit_log', id: null, name: null },
          diff: { removed: { after: removed }, older_than: { after: cutoff } },
        });
      return removed;
    });
  }

  list(filter: AuditFilter, limit: number) {
    return this.events.list(filter, limit);
  }

  stream(filter: AuditFilter) {
    return this.events.stream(filter);
  }
}

/** The audit actor of a request's actor (id and username only). */
export const auditActor = (actor: Pick<Actor, 'id' | 'username'> | null | undefined): AuditActor | null =>
  actor ? { id: actor.id, username: actor.username } : null;

/** An entry for `actor` doing `action` on `target` (the origin comes with the actor). */
export function entry(actor: Actor | null | undefined, action: string, target: AuditTarget, diff?: AuditDiff | null, projectId?: number | null): AuditEntry {
  const made: AuditEntry = { action, actor: auditActor(actor), origin: actor?.origin ?? null, target, diff: diff ?? null };
  if (projectId !== undefined) made.projectId = projectId;
  return made;
}
