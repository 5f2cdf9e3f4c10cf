/**
 * Credentials at rest. The secret is the kind's JSON object sealed as a whole; it goes in through
 * create/update and comes out only through `open` (for the worker that hands it to a step). Every
 * other method answers metadata, so nothing that serialises a Credential can leak a value.
 */
import { sql, type Kysely } from 'kysely';
import type { CredentialRow, Database } from './schema.js';
import type { CredentialKind, CredentialSecret, ResolvedCredential } from '../domain/credentials.js';
import type { SecretBox } from './secret-box.js';
import { isUniqueViolation, memberProjects } from './pipelines-repository.js';
import { nowIso } from './time.js';
import { defaultProjectId, scopedNameKey } from './scoped-name.js';

export interface UserRef {
  id: number;
  username: string;
}

export interface PipelineRef {
  id: number;
  name: string;
}

/** A credential's metadata: what the API shows. Never a value. */
export interface Credential {
  id: number;
  /** The project it belongs to (migration 009): only that project's pipelines may use it. */
  project_id: number;
  name: string;
  kind: CredentialKind;
  description: string;
  fingerprint: string | null;
  created_by: UserRef | null;
  updated_by: UserRef | null;
  created_at: string;
  updated_at: string;
}

export interface NewCredential {
  /** Omitted: the `default` project. */
  project_id?: number;
  name: string;
  description: string;
  secret: CredentialSecret;
  fingerprint: string | null;
}

/** A secret ready to be stored: validated, with the fingerprint of its key. */
export interface PreparedSecret {
  secret: CredentialSecret;
  fingerprint: string | null;
}

export interface CredentialChange {
  /** Omitted: unchanged. */
  project_id?: number;
  name: string;
  description: string;
  kind: CredentialKind;
  /**
   * Absent: the stored secret stays. Same kind: these fields are merged into the stored ones
   * (a null removes an optional field). Another kind: the whole new secret.
   */
  secret?: Record<string, unknown>;
  /** Validates the secret about to be stored (after the merge) and returns it prepared; throws to refuse. */
  prepare(kind: CredentialKind, secret: Record<string, unknown>): Promise<PreparedSecret>;
}

export interface CredentialFilter {
  /** Only this project's credentials. */
  project?: number;
  /** Only credentials of the projects this user is a member of (a non-admin's reads). */
  memberId?: number;
  search?: string;
  kind?: CredentialKind;
}

type JoinedRow = Omit<CredentialRow, 'secret' | 'name_key'> & { creator_username: string | null; updater_username: string | null };

const toCredential = (row: JoinedRow): Credential => ({
  id: row.id,
  project_id: row.project_id,
  name: row.name,
  kind: row.kind as CredentialKind,
  description: row.description,
  fingerprint: row.fingerprint,
  created_by: row.created_by !== null && row.creator_username !== null ? { id: row.created_by, username: row.creator_username } : null,
  updated_by: row.updated_by !== null && row.updater_username !== null ? { id: row.updated_by, username: row.updater_username } : null,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

export class CredentialsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly secrets: SecretBox,
  ) {}

  /** The same repository working inside a transaction (see store/transaction.ts). */
  in(tx: Kysely<Database>): CredentialsRepository {
    return new CredentialsRepository(tx, this.secrets);
  }

  /** Metadata columns only: the sealed secret is never selected here. */
  private base() {
    return this.db
      .selectFrom('credentials')
      .leftJoin('users as creator', 'creator.id', 'credentials.created_by')
      .leftJoin('users as updater', 'updater.id', 'credentials.updated_by')
      .select([
        'credentials.id',
        'credentials.project_id',
        'credentials.name',
        'credentials.kind',
        'credentials.description',
        'credentials.fingerprint',
        'credentials.created_by',
        'credentials.updated_by',
        'credentials.created_at',
        'credentials.updated_at',
        'creator.username as creator_username',
        'updater.username as updater_username',
      ]);
  }

  async findById(id: number): Promise<Credential | null> {
    const row = await this.base().where('credentials.id', '=', id).executeTakeFirst();
    return row ? toCredential(row) : null;
  }

  /** The lower-cased names among `names` that exist in the project (a pipeline uses its own project's only). */
  async existingNames(names: readonly string[], projectId: number): Promise<Set<string>> {
    if (names.length === 0) return new Set();
    const keys = [...new Set(names.map((n) => scopedNameKey(projectId, n)))];
    const rows = await this.db.selectFrom('credentials').select('name').where('name_key', 'in', keys).execute();
    return new Set(rows.map((r) => r.name.toLowerCase()));
  }

  /** The kind of each of `names` that exists in the project, by lower-cased name. */
  async kindsOf(names: readonly string[], projectId: number): Promise<Map<string, CredentialKind>> {
    if (names.length === 0) return new Map();
    const keys = [...new Set(names.map((n) => scopedNameKey(projectId, n)))];
    const rows = await this.db.selectFrom('credentials').select(['name', 'kind']).where('name_key', 'in', keys).execute();
    return new Map(rows.map((r) => [r.name.toLowerCase(), r.kind as CredentialKind]));
  }

  async list(filter: CredentialFilter, page: { limit: number; offset: number }): Promise<{ total: number; items: Credential[] }> {
    let q = this.base();
    if (filter.project !== undefined) q = q.where('credentials.project_id', '=', filter.project);
    if (filter.memberId !== undefined) q = q.where('credentials.project_id', 'in', memberProjects(this.db, filter.memberId));
    if (filter.kind) q = q.where('credentials.kind', '=', filter.kind);
    if (filter.search) {
      const pattern = `%${filter.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q = q.where((eb) =>
        eb.or([
          eb(sql`lower(credentials.name)`, 'like', sql`${pattern} escape '\\'`),
          eb(sql`lower(credentials.description)`, 'like', sql`${pattern} escape '\\'`),
        ]),
      );
    }
    const countRow = await q
      .clearSelect()
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const total = Number(countRow.n);
    if (total === 0 || page.offset >= total) return { total, items: [] };
    const rows = await q.orderBy('credentials.project_id').orderBy('credentials.name_key').limit(page.limit).offset(page.offset).execute();
    return { total, items: rows.map(toCredential) };
  }

  /** Returns null when another credential has the name (case-insensitively). */
  async create(fields: NewCredential, actorId: number): Promise<Credential | null> {
    const now = nowIso();
    const projectId = fields.project_id ?? (await defaultProjectId(this.db));
    const row = await this.db
      .insertInto('credentials')
      .values({
        name: fields.name,
        name_key: scopedNameKey(projectId, fields.name),
        kind: fields.secret.kind,
        description: fields.description,
        secret: this.secrets.seal(JSON.stringify(fields.secret.value)),
        fingerprint: fields.fingerprint,
        project_id: projectId,
        created_by: actorId,
        updated_by: actorId,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('name_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    return row ? this.findById(row.id) : null;
  }

  /** Returns 'conflict' when the new name is taken, null when the credential does not exist. */
  async update(id: number, change: CredentialChange, actorId: number): Promise<Credential | 'conflict' | null> {
    const stored = await this.db.selectFrom('credentials').select(['kind', 'secret', 'project_id']).where('id', '=', id).executeTakeFirst();
    if (!stored) return null;
    const nameKey = scopedNameKey(change.project_id ?? stored.project_id, change.name);
    const clash = await this.db.selectFrom('credentials').select('id').where('name_key', '=', nameKey).where('id', '!=', id).executeTakeFirst();
    if (clash) return 'conflict';

    let sealed: { secret: string; fingerprint: string | null; kind: CredentialKind } | null = null;
    if (change.secret !== undefined || change.kind !== stored.kind) {
      const base = change.kind === stored.kind ? (JSON.parse(this.secrets.open(stored.secret)) as Record<string, unknown>) : {};
      const prepared = await change.prepare(change.kind, mergeSecret(base, change.secret ?? {}));
      sealed = { kind: prepared.secret.kind, secret: this.secrets.seal(JSON.stringify(prepared.secret.value)), fingerprint: prepared.fingerprint };
    }
    try {
      const result = await this.db
        .updateTable('credentials')
        .set({
          name: change.name,
          name_key: nameKey,
          description: change.description,
          ...(change.project_id !== undefined ? { project_id: change.project_id } : {}),
          ...(sealed ?? {}),
          updated_by: actorId,
          updated_at: nowIso(),
        })
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return null;
    } catch (error) {
      // A concurrent rename to the same name loses the race on the unique index.
      if (isUniqueViolation(error)) return 'conflict';
      throw error;
    }
    return this.findById(id);
  }

  async delete(id: number): Promise<boolean> {
    const result = await this.db.deleteFrom('credentials').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /**
   * The credentials a run's steps name, opened, for the worker. One entry per asked name that
   * exists, carrying the name as asked (names match case-insensitively); a missing name is absent.
   * Only the run's project's credentials: another project's never reach its steps.
   */
  async open(names: string[], projectId: number): Promise<ResolvedCredential[]> {
    if (names.length === 0) return [];
    const rows = await this.db
      .selectFrom('credentials')
      .select(['name_key', 'kind', 'secret'])
      .where('name_key', 'in', [...new Set(names.map((n) => scopedNameKey(projectId, n)))])
      .execute();
    const byKey = new Map(rows.map((r) => [r.name_key, r]));
    const out: ResolvedCredential[] = [];
    for (const name of new Set(names)) {
      const row = byKey.get(scopedNameKey(projectId, name));
      if (!row) continue;
      const secret = { kind: row.kind, value: JSON.parse(this.secrets.open(row.secret)) } as CredentialSecret;
      out.push({ name, secret });
    }
    return out;
  }

  /**
   * Which pipelines name each credential in a step, by `usageKey` (project and lower-cased name: a
   * pipeline uses its own project's credentials only). Pipelines keep their steps as JSON text;
   * only those that mention a credential at all are parsed.
   */
  async usage(): Promise<Map<string, PipelineRef[]>> {
    const rows = await this.db
      .selectFrom('pipelines')
      .select(['id', 'name', 'steps', 'project_id'])
      .where('steps', 'like', '%"credential"%')
      .orderBy('id')
      .execute();
    const usage = new Map<string, PipelineRef[]>();
    for (const row of rows) {
      const steps = JSON.parse(row.steps) as Array<{ credential?: unknown }>;
      const keys = new Set(
        steps
          .map((s) => s.credential)
          .filter((c): c is string => typeof c === 'string' && c !== '')
          .map((c) => usageKey(row.project_id, c)),
      );
      for (const key of keys) {
        const list = usage.get(key) ?? [];
        list.push({ id: row.id, name: row.name });
        usage.set(key, list);
      }
    }
    return usage;
  }
}

/** The key of `usage()`: a credential name within a project. */
export const usageKey = (projectId: number, name: string) => `${projectId}/${name.toLowerCase()}`;

/** The stored fields overlaid with the given ones; a null removes a field. */
function mergeSecret(stored: Record<string, unknown>, given: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...stored };
  for (const [field, value] of Object.entries(given)) {
    if (value === null) delete merged[field];
    else merged[field] = value;
  }
  return merged;
}
