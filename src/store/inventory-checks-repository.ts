/**
 * Connectivity checks of inventories (migration 020): one row per check, its per-host results
 * written as they come, so any API process answers GET …/checks/{cid}/ while it runs.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, InventoryChecksTable } from './schema.js';
import type { CheckStatus, HostCheckResult } from '../domain/inventory-checks.js';
import type { UserRef } from './credentials-repository.js';
import { nowIso } from './time.js';

export interface InventoryCheck {
  id: number;
  inventory_id: number;
  inventory_version: number;
  limit: string | null;
  status: CheckStatus;
  host_count: number;
  results: HostCheckResult[];
  error: string | null;
  requested_by: UserRef | null;
  started_at: string;
  finished_at: string | null;
}

type Row = Selectable<InventoryChecksTable> & { username: string | null };

const toCheck = (row: Row): InventoryCheck => ({
  id: row.id,
  inventory_id: row.inventory_id,
  inventory_version: row.inventory_version,
  limit: row.host_limit,
  status: row.status as CheckStatus,
  host_count: row.host_count,
  results: JSON.parse(row.results) as HostCheckResult[],
  error: row.error,
  requested_by: row.requested_by !== null && row.username !== null ? { id: row.requested_by, username: row.username } : null,
  started_at: row.started_at,
  finished_at: row.finished_at,
});

export class InventoryChecksRepository {
  constructor(private readonly db: Kysely<Database>) {}

  in(tx: Kysely<Database>): InventoryChecksRepository {
    return new InventoryChecksRepository(tx);
  }

  async start(input: { inventoryId: number; version: number; limit: string | null; hostCount: number; requestedBy: number }): Promise<number> {
    const row = await this.db
      .insertInto('inventory_checks')
      .values({
        inventory_id: input.inventoryId,
        inventory_version: input.version,
        host_limit: input.limit,
        status: 'running',
        host_count: input.hostCount,
        results: '[]',
        requested_by: input.requestedBy,
        started_at: nowIso(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** Checks with the name of whoever asked for them. */
  private withRequester() {
    return this.db
      .selectFrom('inventory_checks')
      .leftJoin('users', 'users.id', 'inventory_checks.requested_by')
      .selectAll('inventory_checks')
      .select('users.username');
  }

  async find(inventoryId: number, id: number): Promise<InventoryCheck | null> {
    const row = await this.withRequester().where('inventory_checks.id', '=', id).where('inventory_checks.inventory_id', '=', inventoryId).executeTakeFirst();
    return row ? toCheck(row) : null;
  }

  /** The inventory's most recent check (what a live viewer is shown first), or null. */
  async latest(inventoryId: number): Promise<InventoryCheck | null> {
    const row = await this.withRequester()
      .where('inventory_checks.inventory_id', '=', inventoryId)
      .orderBy('inventory_checks.id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? toCheck(row) : null;
  }

  /** The results so far (a running check's progress). */
  async progress(id: number, results: readonly HostCheckResult[]): Promise<void> {
    await this.db
      .updateTable('inventory_checks')
      .set({ results: JSON.stringify(results) })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .execute();
  }

  async finish(id: number, outcome: { results: readonly HostCheckResult[]; error: string | null }): Promise<void> {
    await this.db
      .updateTable('inventory_checks')
      .set({ status: outcome.error === null ? 'finished' : 'error', results: JSON.stringify(outcome.results), error: outcome.error, finished_at: nowIso() })
      .where('id', '=', id)
      .execute();
  }
}
