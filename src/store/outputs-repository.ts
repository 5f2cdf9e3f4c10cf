/**
 * Build outputs in the database (migration 016): what is stored in the ArtifactStore and under
 * which keys. The bytes are never here; every write that names objects happens after they are
 * stored, and every delete returns the keys whose objects the caller removes next.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { PipelineCacheRow, RunArtifactRow } from './outputs-schema.js';
import { nowIso } from './time.js';
import { scopedNameKey } from './scoped-name.js';

export interface ArtifactFile {
  path: string;
  size: number;
  sha256: string;
  key: string;
}

export interface Artifact {
  id: number;
  run_id: number;
  step_run_id: number | null;
  name: string;
  status: 'stored' | 'failed';
  file_count: number;
  size_bytes: number;
  refused: { path: string; reason: string }[];
  error: string | null;
  key_prefix: string;
  expires_at: string | null;
  created_at: string;
}

export interface CacheEntryRow {
  id: number;
  scope: string;
  key: string;
  object_key: string;
  size_bytes: number;
  entries: number;
  hits: number;
  created_at: string;
  last_used_at: string;
}

export interface CacheStats {
  lookups: number;
  exact_hits: number;
  partial_hits: number;
}

export interface Snapshot {
  step_run_id: number;
  object_key: string;
  size_bytes: number;
  worker: string;
  created_at: string;
}

const toArtifact = (row: RunArtifactRow): Artifact => ({
  id: row.id,
  run_id: row.run_id,
  step_run_id: row.step_run_id,
  name: row.name,
  status: row.status as Artifact['status'],
  file_count: Number(row.file_count),
  size_bytes: Number(row.size_bytes),
  refused: JSON.parse(row.refused) as Artifact['refused'],
  error: row.error,
  key_prefix: row.key_prefix,
  expires_at: row.expires_at,
  created_at: row.created_at,
});

const toCache = (row: PipelineCacheRow): CacheEntryRow => ({
  id: row.id,
  scope: row.scope,
  key: row.key,
  object_key: row.object_key,
  size_bytes: Number(row.size_bytes),
  entries: Number(row.entries),
  hits: Number(row.hits),
  created_at: row.created_at,
  last_used_at: row.last_used_at,
});

export class OutputsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  in(tx: Kysely<Database>): OutputsRepository {
    return new OutputsRepository(tx);
  }

  /** An artifact and its files, in one transaction: listed whole or not at all. */
  async recordArtifact(input: {
    runId: number;
    stepRunId: number | null;
    name: string;
    keyPrefix: string;
    files: ArtifactFile[];
    refused: { path: string; reason: string }[];
    bytes: number;
    expiresAt: string | null;
    error: string | null;
  }): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      // A step's artifact is recorded once per run; a retry of a run writes rows of its own.
      await trx.deleteFrom('run_artifacts').where('run_id', '=', input.runId).where('name', '=', input.name).execute();
      const row = await trx
        .insertInto('run_artifacts')
        .values({
          run_id: input.runId,
          step_run_id: input.stepRunId,
          name: input.name,
          status: input.error === null ? 'stored' : 'failed',
          file_count: input.files.length,
          size_bytes: input.bytes,
          refused: JSON.stringify(input.refused),
          error: input.error,
          key_prefix: input.keyPrefix,
          expires_at: input.expiresAt,
          created_at: nowIso(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      // Batches keep PostgreSQL under its 65,535 bound parameters for artifacts of many files.
      for (let i = 0; i < input.files.length; i += 1000)
        await trx
          .insertInto('run_artifact_files')
          .values(input.files.slice(i, i + 1000).map((f) => ({ artifact_id: row.id, path: f.path, size_bytes: f.size, sha256: f.sha256, object_key: f.key })))
          .execute();
      return row.id;
    });
  }

  /**
   * A run's artifacts: its own, and those of the original run's steps it reused (a retry), in the
   * order they were stored.
   */
  async artifactsOfRun(runId: number): Promise<Artifact[]> {
    const rows = await this.db
      .selectFrom('run_artifacts')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb('run_id', '=', runId),
          eb('step_run_id', 'in', eb.selectFrom('step_runs').select('reused_from').where('run_id', '=', runId).where('reused_from', 'is not', null) as never),
        ]),
      )
      .orderBy('id')
      .execute();
    return rows.map(toArtifact);
  }

  async artifact(id: number): Promise<Artifact | null> {
    const row = await this.db.selectFrom('run_artifacts').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toArtifact(row) : null;
  }

  /** An artifact's files by path; `limit`: only the first ones (a listing, not a download). */
  async filesOf(artifactId: number, limit?: number): Promise<ArtifactFile[]> {
    let q = this.db.selectFrom('run_artifact_files').selectAll().where('artifact_id', '=', artifactId).orderBy('path');
    if (limit !== undefined) q = q.limit(limit);
    const rows = await q.execute();
    return rows.map((r) => ({ path: r.path, size: Number(r.size_bytes), sha256: r.sha256, key: r.object_key }));
  }

  async file(artifactId: number, path: string): Promise<ArtifactFile | null> {
    const r = await this.db.selectFrom('run_artifact_files').selectAll().where('artifact_id', '=', artifactId).where('path', '=', path).executeTakeFirst();
    return r ? { path: r.path, size: Number(r.size_bytes), sha256: r.sha256, key: r.object_key } : null;
  }

  /**
   * A step's `from:` source: the pipeline of this project with that id or name (names are unique in
   * a project, case-insensitively); null when this project has none (another project's pipeline is
   * never found: a run reads only its own project's pipelines).
   */
  async pipelineInProject(projectId: number, ref: string | number): Promise<{ id: number; name: string; branch: string } | null> {
    const q = this.db.selectFrom('pipelines').select(['id', 'name', 'branch']).where('project_id', '=', projectId);
    const row = await (typeof ref === 'number' ? q.where('id', '=', ref) : q.where('name_key', '=', scopedNameKey(projectId, ref))).executeTakeFirst();
    return row ?? null;
  }

  /** The newest successful run of a pipeline on a branch (by number). */
  async latestSuccessfulRun(pipelineId: number, branch: string): Promise<{ id: number; number: number } | null> {
    const row = await this.db
      .selectFrom('pipeline_runs')
      .select(['id', 'number'])
      .where('pipeline_id', '=', pipelineId)
      .where('branch', '=', branch)
      .where('status', '=', 'success')
      .orderBy('number', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ?? null;
  }

  /** Removes up to `limit` expired artifacts' rows; returns their key prefixes (their objects go next). */
  async removeExpiredArtifacts(now: string, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('run_artifacts')
      .select(['id', 'key_prefix'])
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .limit(limit)
      .execute();
    if (rows.length === 0) return [];
    await this.db
      .deleteFrom('run_artifacts')
      .where(
        'id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    return rows.map((r) => r.key_prefix);
  }

  // ---- caches ----

  async caches(pipelineId: number, scopes?: readonly string[]): Promise<CacheEntryRow[]> {
    let q = this.db.selectFrom('pipeline_caches').selectAll().where('pipeline_id', '=', pipelineId);
    if (scopes) {
      if (scopes.length === 0) return [];
      q = q.where('scope', 'in', [...scopes]);
    }
    return (await q.orderBy('last_used_at', 'desc').orderBy('id', 'desc').execute()).map(toCache);
  }

  async cacheStats(pipelineId: number): Promise<CacheStats> {
    const row = await this.db.selectFrom('pipeline_cache_stats').selectAll().where('pipeline_id', '=', pipelineId).executeTakeFirst();
    return { lookups: Number(row?.lookups ?? 0), exact_hits: Number(row?.exact_hits ?? 0), partial_hits: Number(row?.partial_hits ?? 0) };
  }

  /** Counts a lookup; a restored entry gets a hit and becomes the most recently used. */
  async cacheLookedUp(pipelineId: number, restoredId: number | null, exact: boolean): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('pipeline_cache_stats')
        .values({ pipeline_id: pipelineId, lookups: 0, exact_hits: 0, partial_hits: 0 })
        .onConflict((oc) => oc.column('pipeline_id').doNothing())
        .execute();
      await trx
        .updateTable('pipeline_cache_stats')
        .set((eb) => ({
          lookups: eb('lookups', '+', 1),
          exact_hits: eb('exact_hits', '+', restoredId !== null && exact ? 1 : 0),
          partial_hits: eb('partial_hits', '+', restoredId !== null && !exact ? 1 : 0),
        }))
        .where('pipeline_id', '=', pipelineId)
        .execute();
      if (restoredId !== null)
        await trx
          .updateTable('pipeline_caches')
          .set((eb) => ({ hits: eb('hits', '+', 1), last_used_at: nowIso() }))
          .where('id', '=', restoredId)
          .execute();
    });
  }

  /** Records a stored cache entry unless its scope already has the key (the first writer wins). */
  async saveCache(input: {
    pipelineId: number;
    scope: string;
    key: string;
    objectKey: string;
    size: number;
    entries: number;
    runId: number;
  }): Promise<'saved' | 'exists'> {
    const now = nowIso();
    const inserted = await this.db
      .insertInto('pipeline_caches')
      .values({
        pipeline_id: input.pipelineId,
        scope: input.scope,
        key: input.key,
        object_key: input.objectKey,
        size_bytes: input.size,
        entries: input.entries,
        created_by_run_id: input.runId,
        created_at: now,
        last_used_at: now,
      })
      .onConflict((oc) => oc.columns(['pipeline_id', 'scope', 'key']).doNothing())
      .returning('id')
      .executeTakeFirst();
    return inserted ? 'saved' : 'exists';
  }

  /**
   * Least recently used entries (of every pipeline) beyond `budget` bytes in all: their rows are
   * removed and their object keys returned. `keep`: an entry never evicted (the one just saved).
   */
  async evictOverBudget(budget: number, keep: string | null = null): Promise<string[]> {
    const total = await this.db
      .selectFrom('pipeline_caches')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('size_bytes'), sql<number>`0`).as('n'))
      .executeTakeFirstOrThrow();
    let excess = Number(total.n) - budget;
    if (excess <= 0) return [];
    const evicted: { id: number; object_key: string }[] = [];
    let offset = 0;
    while (excess > 0) {
      const batch = await this.db
        .selectFrom('pipeline_caches')
        .select(['id', 'object_key', 'size_bytes'])
        .orderBy('last_used_at')
        .orderBy('id')
        .limit(100)
        .offset(offset)
        .execute();
      if (batch.length === 0) break;
      offset += batch.length;
      for (const row of batch) {
        if (excess <= 0) break;
        if (row.object_key === keep) continue;
        evicted.push(row);
        excess -= Number(row.size_bytes);
      }
    }
    if (evicted.length > 0)
      await this.db
        .deleteFrom('pipeline_caches')
        .where(
          'id',
          'in',
          evicted.map((e) => e.id),
        )
        .execute();
    return evicted.map((e) => e.object_key);
  }

  /** Removes one cache entry of a pipeline (or all of them when `id` is null); returns what was removed. */
  async deleteCaches(pipelineId: number, id: number | null): Promise<CacheEntryRow[]> {
    let q = this.db.selectFrom('pipeline_caches').selectAll().where('pipeline_id', '=', pipelineId);
    if (id !== null) q = q.where('id', '=', id);
    const rows = (await q.execute()).map(toCache);
    if (rows.length > 0)
      await this.db
        .deleteFrom('pipeline_caches')
        .where(
          'id',
          'in',
          rows.map((r) => r.id),
        )
        .execute();
    return rows;
  }

  // ---- snapshots ----

  async recordSnapshot(input: { runId: number; stepRunId: number; objectKey: string; size: number; worker: string }): Promise<void> {
    await this.db
      .insertInto('run_snapshots')
      .values({
        run_id: input.runId,
        step_run_id: input.stepRunId,
        object_key: input.objectKey,
        size_bytes: input.size,
        worker: input.worker,
        created_at: nowIso(),
      })
      .onConflict((oc) => oc.column('step_run_id').doUpdateSet({ object_key: input.objectKey, size_bytes: input.size, worker: input.worker }))
      .execute();
  }

  /**
   * A step whose snapshot could not be stored (found after its result was recorded): why, on the
   * step's message, after what the message said already; any snapshot recorded for it goes.
   */
  async snapshotFailed(input: { stepRunId: number; message: string }): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('run_snapshots').where('step_run_id', '=', input.stepRunId).execute();
      await tx
        .updateTable('step_runs')
        .set({ message: sql<string>`case when message is null or message = '' then ${input.message} else message || '; ' || ${input.message} end` })
        .where('id', '=', input.stepRunId)
        .execute();
    });
  }

  async snapshotsOfRun(runId: number): Promise<Snapshot[]> {
    const rows = await this.db.selectFrom('run_snapshots').selectAll().where('run_id', '=', runId).execute();
    return rows.map((r) => ({
      step_run_id: r.step_run_id,
      object_key: r.object_key,
      size_bytes: Number(r.size_bytes),
      worker: r.worker,
      created_at: r.created_at,
    }));
  }
}
