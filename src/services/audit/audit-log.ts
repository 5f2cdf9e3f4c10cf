/**
 * The audit recorder. A change and its event are written in ONE transaction (`change`), so there
 * is no change without its event; events without a change (a login, a failed login) are written
 * alone (`recordAlone`). Callers pass views whose secrets are wrapped in `Redacted` (domain/audit).
 */
import type { AuditEntry, AuditTarget, AuditDiff, AuditActor } from '../../domain/audit.js';
import type { Actor } from '../../domain/roles.js';
import type { AuditEventsRepository, AuditFilter } from '../../store/audit-events-repository.js';
import type { StoreTx, Transactor } from '../../store/transaction.js';
import { nowIso } from '../../store/time.js';

export type RecordEvent = (entry: AuditEntry) => Promise<void>;

/**
 * The projects whose events a non-admin may read. The permission policy plugs in here (maintainers
 * read their projects' events); until it does, nobody but admins reads the log.
 */
export type AuditProjectsOf = (actor: Actor) => Promise<number[]>;

export class AuditLog {
  constructor(
    private readonly events: AuditEventsRepository,
    private readonly transact: Transactor,
    private readonly projectsOf: AuditProjectsOf = async () => [],
  ) {}

  /** The restriction on what `actor` reads of the log: none (admins), some projects, or null (nothing: 403). */
  async readableBy(actor: Actor): Promise<Pick<AuditFilter, 'projectIds'> | null> {
    if (actor.role === 'admin') return {};
    const projectIds = await this.projectsOf(actor);
    return projectIds.length > 0 ? { projectIds } : null;
  }

  /**
   * Runs `work` in one transaction: its repositories bound to `tx` (`repo.in(tx)`), its events
   * written through `record`. Either all of it commits or none.
   */
  change<T>(work: (tx: StoreTx, record: RecordEvent) => Promise<T>): Promise<T> {
    return this.transact((tx) => work(tx, (entry) => this.record(tx, entry)));
  }

  /** Writes an event inside a transaction someone else opened (e.g. the run's own). */
  record(tx: StoreTx, entry: AuditEntry): Promise<void> {
    return this.events.in(tx).insert(entry, nowIso());
  }

  /** An event that goes with no change of ours (logins). */
  recordAlone(entry: AuditEntry): Promise<void> {
    return this.events.insert(entry, nowIso());
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
  return { action, actor: auditActor(actor), origin: actor?.origin ?? null, target, diff: diff ?? null, ...(projectId !== undefined ? { projectId } : {}) };
}
