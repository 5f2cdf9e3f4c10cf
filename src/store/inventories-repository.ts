/**
 * Stored inventories and their versions (migration 017). Every save writes the inventory row and
 * a version row with the same number; callers run both inside one transaction (`in(tx)`), with
 * the audit event.
 */
import type { Kysely } from 'kysely';
import type { Database, InventoriesTable } from './schema.js';
import { ansibleStepReferences, type InventoryFormat, type ParsedInventory, type ResolvedInventory } from '../domain/inventories.js';
import { isUniqueViolation, memberProjects } from './pipelines-repository.js';
import type { UserRef } from './credentials-repository.js';
import { nowIso } from './time.js';
import type { Selectable } from 'kysely';

export interface InventoryConnection {
  ssh_credential: string | null;
  become_credential: string | null;
  vault_credentials: string[];
}

export interface Inventory extends InventoryConnection {
  id: number;
  project_id: number;
  name: string;
  description: string;
  format: InventoryFormat;
  content: string;
  version: number;
  host_count: number;
  created_by: UserRef | null;
  updated_by: UserRef | null;
  created_at: string;
  updated_at: string;
}

export interface InventoryVersion extends InventoryConnection {
  version: number;
  format: InventoryFormat;
  content: string;
  created_by: UserRef | null;
  created_at: string;
}

export interface InventoryFields extends InventoryConnection {
  project_id: number;
  name: string;
  description: string;
  format: InventoryFormat;
  content: string;
  parsed: ParsedInventory;
}

export interface InventoryFilter {
  project?: number;
  memberId?: number;
  search?: string;
}

export interface HostCheck {
  host: string;
  status: 'reachable' | 'unreachable' | 'failed';
  reason: string | null;
  facts: Record<string, unknown> | null;
  checked_at: string;
}

type Row = Selectable<InventoriesTable> & { creator_username: string | null; updater_username: string | null };

const userRef = (id: number | null, username: string | null): UserRef | null => (id !== null && username !== null ? { id, username } : null);

const toInventory = (row: Row): Inventory => ({
  id: row.id,
  project_id: row.project_id,
  name: row.name,
  description: row.description,
  format: row.format as InventoryFormat,
  content: row.content,
  ssh_credential: row.ssh_credential,
  become_credential: row.become_credential,
  vault_credentials: JSON.parse(row.vault_credentials) as string[],
  version: row.version,
  host_count: (JSON.parse(row.hosts) as ParsedInventory).hosts.length,
  created_by: userRef(row.created_by, row.creator_username),
  updated_by: userRef(row.updated_by, row.updater_username),
  created_at: row.created_at,
  updated_at: row.updated_at,
});

export class InventoriesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  in(tx: Kysely<Database>): InventoriesRepository {
    return new InventoriesRepository(tx);
  }

  private base() {
    return this.db
      .selectFrom('inventories')
      .leftJoin('users as creator', 'creator.id', 'inventories.created_by')
      .leftJoin('users as updater', 'updater.id', 'inventories.updated_by')
      .selectAll('inventories')
      .select(['creator.username as creator_username', 'updater.username as updater_username']);
  }

  async findById(id: number): Promise<Inventory | null> {
    const row = await this.base().where('inventories.id', '=', id).executeTakeFirst();
    return row ? toInventory(row) : null;
  }

  /** The project an inventory belongs to; null for an unknown inventory (who may watch its checks). */
  async projectOf(id: number): Promise<number | null> {
    const row = await this.db.selectFrom('inventories').select('project_id').where('id', '=', id).executeTakeFirst();
    return row ? row.project_id : null;
  }

  /** The parsed hosts and groups as saved. */
  async parsed(id: number): Promise<ParsedInventory | null> {
    const row = await this.db.selectFrom('inventories').select('hosts').where('id', '=', id).executeTakeFirst();
    return row ? (JSON.parse(row.hosts) as ParsedInventory) : null;
  }

  /** Names are matched case-insensitively within the project. */
  async findByName(projectId: number, name: string): Promise<Inventory | null> {
    const row = await this.base().where('inventories.project_id', '=', projectId).where('inventories.name_key', '=', name.toLowerCase()).executeTakeFirst();
    return row ? toInventory(row) : null;
  }

  /** The lower-cased names among `names` that exist in the project. */
  async existingNames(names: readonly string[], projectId: number): Promise<Set<string>> {
    if (names.length === 0) return new Set();
    const keys = [...new Set(names.map((n) => n.toLowerCase()))];
    const rows = await this.db.selectFrom('inventories').select('name_key').where('name_key', 'in', keys).where('project_id', '=', projectId).execute();
    return new Set(rows.map((r) => r.name_key));
  }

  /** The project's inventories with these names, as a run receives them (each under the name as asked). */
  async open(names: string[], projectId: number): Promise<ResolvedInventory[]> {
    if (names.length === 0) return [];
    const rows = await this.db
      .selectFrom('inventories')
      .select(['name_key', 'format', 'content', 'ssh_credential', 'become_credential', 'vault_credentials'])
      .where('name_key', 'in', [...new Set(names.map((n) => n.toLowerCase()))])
      .where('project_id', '=', projectId)
      .execute();
    const byKey = new Map(rows.map((r) => [r.name_key, r]));
    return [...new Set(names)].flatMap((name) => {
      const row = byKey.get(name.toLowerCase());
      if (!row) return [];
      return [
        {
          name,
          format: row.format as InventoryFormat,
          content: row.content,
          ssh_credential: row.ssh_credential,
          become_credential: row.become_credential,
          vault_credentials: JSON.parse(row.vault_credentials) as string[],
        },
      ];
    });
  }

  async list(filter: InventoryFilter, page: { limit: number; offset: number }): Promise<{ total: number; items: Inventory[] }> {
    let q = this.base();
    if (filter.project !== undefined) q = q.where('inventories.project_id', '=', filter.project);
    if (filter.memberId !== undefined) q = q.where('inventories.project_id', 'in', memberProjects(this.db, filter.memberId));
    if (filter.search) q = q.where('inventories.name_key', 'like', `%${filter.search.toLowerCase().replace(/[\\%_]/g, '')}%`);
    const { n } = await q
      .clearSelect()
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const total = Number(n);
    if (total === 0 || page.offset >= total) return { total, items: [] };
    const rows = await q.orderBy('inventories.name_key').orderBy('inventories.id').limit(page.limit).offset(page.offset).execute();
    return { total, items: rows.map(toInventory) };
  }

  /** Version 1; null when the project has an inventory of that name. */
  async create(fields: InventoryFields, actorId: number): Promise<Inventory | null> {
    if (await this.findByName(fields.project_id, fields.name)) return null;
    const now = nowIso();
    try {
      const row = await this.db
        .insertInto('inventories')
        .values({ ...this.columns(fields), version: 1, created_by: actorId, updated_by: actorId, created_at: now, updated_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      await this.addVersion(row.id, 1, fields, actorId, now);
      return this.findById(row.id);
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  /** A new version; 'conflict' when the new name is taken, null when the inventory is gone. */
  async update(id: number, fields: InventoryFields, actorId: number): Promise<Inventory | 'conflict' | null> {
    const current = await this.db.selectFrom('inventories').select('version').where('id', '=', id).executeTakeFirst();
    if (!current) return null;
    const clash = await this.db
      .selectFrom('inventories')
      .select('id')
      .where('project_id', '=', fields.project_id)
      .where('name_key', '=', fields.name.toLowerCase())
      .where('id', '!=', id)
      .executeTakeFirst();
    if (clash) return 'conflict';
    const now = nowIso();
    const version = current.version + 1;
    try {
      const result = await this.db
        .updateTable('inventories')
        .set({ ...this.columns(fields), version, updated_by: actorId, updated_at: now })
        .where('id', '=', id)
        .where('version', '=', current.version)
        .executeTakeFirst();
      // Another save won the race for this version number: the caller sees a conflict, nothing is lost.
      if (Number(result.numUpdatedRows) === 0) return 'conflict';
      await this.addVersion(id, version, fields, actorId, now);
    } catch (error) {
      if (isUniqueViolation(error)) return 'conflict';
      throw error;
    }
    return this.findById(id);
  }

  /** The project's stored pipelines with an Ansible step naming this inventory (case-insensitively), by id. */
  async usedBy(projectId: number, name: string): Promise<Array<{ id: number; name: string }>> {
    const rows = await this.db
      .selectFrom('pipelines')
      .select(['id', 'name', 'steps'])
      .where('project_id', '=', projectId)
      .where('steps', 'like', '%inventory_name%')
      .orderBy('id')
      .execute();
    const key = name.toLowerCase();
    return rows
      .filter((row) => {
        const steps = JSON.parse(row.steps) as Array<{ type: string; config: Record<string, unknown> }>;
        return ansibleStepReferences(steps.map((s) => ({ type: s.type, config: s.config ?? {} }))).inventories.some((n) => n.toLowerCase() === key);
      })
      .map((row) => ({ id: row.id, name: row.name }));
  }

  async delete(id: number): Promise<boolean> {
    const result = await this.db.deleteFrom('inventories').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  async versions(id: number): Promise<InventoryVersion[]> {
    const rows = await this.versionQuery(id).orderBy('inventory_versions.version', 'desc').execute();
    return rows.map(toVersion);
  }

  async version(id: number, version: number): Promise<InventoryVersion | null> {
    const row = await this.versionQuery(id).where('inventory_versions.version', '=', version).executeTakeFirst();
    return row ? toVersion(row) : null;
  }

  async hostChecks(id: number): Promise<Map<string, HostCheck>> {
    const rows = await this.db.selectFrom('inventory_host_checks').selectAll().where('inventory_id', '=', id).execute();
    return new Map(
      rows.map((r) => [
        r.host,
        {
          host: r.host,
          status: r.status as HostCheck['status'],
          reason: r.reason,
          facts: r.facts === null ? null : (JSON.parse(r.facts) as Record<string, unknown>),
          checked_at: r.checked_at,
        },
      ]),
    );
  }

  /** Replaces the last check of each of these hosts. */
  async saveChecks(id: number, checks: readonly HostCheck[]): Promise<void> {
    if (checks.length === 0) return;
    await this.db
      .deleteFrom('inventory_host_checks')
      .where('inventory_id', '=', id)
      .where(
        'host',
        'in',
        checks.map((c) => c.host),
      )
      .execute();
    for (let i = 0; i < checks.length; i += 200)
      await this.db
        .insertInto('inventory_host_checks')
        .values(
          checks.slice(i, i + 200).map((c) => ({
            inventory_id: id,
            host: c.host,
            status: c.status,
            reason: c.reason,
            facts: c.facts === null ? null : JSON.stringify(c.facts),
            checked_at: c.checked_at,
          })),
        )
        .execute();
  }

  private versionQuery(id: number) {
    return this.db
      .selectFrom('inventory_versions')
      .leftJoin('users', 'users.id', 'inventory_versions.created_by')
      .selectAll('inventory_versions')
      .select('users.username as creator_username')
      .where('inventory_versions.inventory_id', '=', id);
  }

  private columns(fields: InventoryFields) {
    return {
      project_id: fields.project_id,
      name: fields.name,
      name_key: fields.name.toLowerCase(),
      description: fields.description,
      format: fields.format,
      content: fields.content,
      ssh_credential: fields.ssh_credential,
      become_credential: fields.become_credential,
      vault_credentials: JSON.stringify(fields.vault_credentials),
      hosts: JSON.stringify(fields.parsed),
    };
  }

  private async addVersion(id: number, version: number, fields: InventoryFields, actorId: number, at: string): Promise<void> {
    await this.db
      .insertInto('inventory_versions')
      .values({
        inventory_id: id,
        version,
        format: fields.format,
        content: fields.content,
        ssh_credential: fields.ssh_credential,
        become_credential: fields.become_credential,
        vault_credentials: JSON.stringify(fields.vault_credentials),
        created_by: actorId,
        created_at: at,
      })
      .execute();
  }
}

function toVersion(row: {
  version: number;
  format: string;
  content: string;
  ssh_credential: string | null;
  become_credential: string | null;
  vault_credentials: string;
  created_by: number | null;
  creator_username: string | null;
  created_at: string;
}): InventoryVersion {
  return {
    version: row.version,
    format: row.format as InventoryFormat,
    content: row.content,
    ssh_credential: row.ssh_credential,
    become_credential: row.become_credential,
    vault_credentials: JSON.parse(row.vault_credentials) as string[],
    created_by: userRef(row.created_by, row.creator_username),
    created_at: row.created_at,
  };
}
