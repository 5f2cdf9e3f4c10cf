/**
 * Reading a run's artifacts and managing a pipeline's caches, through the one permission policy:
 * artifacts are read as their run is (`read`), caches are listed as their pipeline is read and
 * cleared as it is edited, with the audit event in the clearing's transaction. Bytes come from the
 * ArtifactStore by the keys recorded in the database, never by a name from a URL.
 */
import type { Readable } from 'node:stream';
import type { Actor } from '../../domain/permissions.js';
import { AppError, notFound } from '../../domain/errors.js';
import type { ArtifactStore } from '../../artifacts/artifact-store.js';
import type { Artifact, ArtifactFile, CacheEntryRow, CacheStats, OutputsRepository } from '../../store/outputs-repository.js';
import type { RunsRepository } from '../../store/runs-repository.js';
import type { PipelinesRepository } from '../../store/pipelines-repository.js';
import type { ProjectAccess } from '../projects/project-access.js';
import type { AuditLog } from '../audit/audit-log.js';
import { entry } from '../audit/audit-log.js';
import { pipelineTarget } from '../audit/audit-views.js';
import { artifactArchive } from './artifact-archive.js';

/** Files listed with each artifact; the rest are in its archive. */
export const LISTED_FILES = 1000;

export interface OutputsDeps {
  outputs: OutputsRepository;
  runs: RunsRepository;
  pipelines: PipelinesRepository;
  store: ArtifactStore;
  access: ProjectAccess;
  audit: AuditLog;
}

export interface CachesView {
  results: CacheEntryRow[];
  total_bytes: number;
  stats: CacheStats & { hit_rate: number | null };
}

export class OutputsService {
  constructor(private readonly deps: OutputsDeps) {}

  /**
   * A run's artifacts (its own and those its reused steps stored in the original run), each with
   * its first LISTED_FILES files by path (`file_count` says how many it holds).
   */
  async artifacts(actor: Actor, runId: number): Promise<Array<Artifact & { files: ArtifactFile[] }>> {
    await this.readableRun(actor, runId);
    const artifacts = await this.deps.outputs.artifactsOfRun(runId);
    return Promise.all(artifacts.map(async (a) => ({ ...a, files: a.status === 'stored' ? await this.deps.outputs.filesOf(a.id, LISTED_FILES) : [] })));
  }

  /** One artifact as a tar.gz stream, with its name and size of content. */
  async archive(actor: Actor, runId: number, artifactId: number): Promise<{ artifact: Artifact; stream: Readable }> {
    const artifact = await this.storedArtifact(actor, runId, artifactId);
    const files = await this.deps.outputs.filesOf(artifact.id);
    return { artifact, stream: artifactArchive(this.deps.store, files, new Date(artifact.created_at)) };
  }

  /**
   * A stored artifact the actor may read (404 otherwise, 409 when it was not stored): what a HEAD
   * of its archive answers with, without building the archive.
   */
  async storedArtifact(actor: Actor, runId: number, artifactId: number): Promise<Artifact> {
    await this.readableRun(actor, runId);
    const artifact = (await this.deps.outputs.artifactsOfRun(runId)).find((a) => a.id === artifactId);
    if (!artifact) throw notFound('Artifact');
    if (artifact.status !== 'stored')
      throw new AppError('RESOURCE_CONFLICT', `The artifact "${artifact.name}" was not stored: ${artifact.error ?? 'unknown reason'}`);
    return artifact;
  }

  /**
   * One file of an artifact the actor may read, by its path inside it: its record (size, SHA-256,
   * store key), from the database only. Its bytes come from `fileBytes`; `fileStored` asks the store
   * whether it still holds them without reading them (a HEAD).
   */
  async fileOf(actor: Actor, runId: number, artifactId: number, path: string): Promise<ArtifactFile> {
    const artifact = await this.storedArtifact(actor, runId, artifactId);
    const file = await this.deps.outputs.file(artifact.id, path);
    if (!file) throw notFound('File');
    return file;
  }

  /** The bytes of a file `fileOf` found: all of them, or the inclusive `range` (the store reads only those). */
  async fileBytes(file: ArtifactFile, range?: { start: number; end: number }): Promise<Readable> {
    const stream = await this.deps.store.get(file.key, range);
    if (!stream) throw goneFromStore();
    return stream;
  }

  /** Throws the GET's 404 when the store no longer holds a file `fileOf` found; reads its metadata only. */
  async fileStored(file: ArtifactFile): Promise<void> {
    if (!(await this.deps.store.stat(file.key))) throw goneFromStore();
  }

  async caches(actor: Actor, pipelineId: number): Promise<CachesView> {
    const projectId = await this.deps.pipelines.projectOf(pipelineId);
    if (projectId === null) throw notFound('Pipeline');
    await this.deps.access.require(actor, projectId, 'read', { what: 'Pipeline' });
    const [results, stats] = await Promise.all([this.deps.outputs.caches(pipelineId), this.deps.outputs.cacheStats(pipelineId)]);
    const hits = stats.exact_hits + stats.partial_hits;
    return {
      results,
      total_bytes: results.reduce((sum, c) => sum + c.size_bytes, 0),
      stats: { ...stats, hit_rate: stats.lookups === 0 ? null : hits / stats.lookups },
    };
  }

  /** Clears one cache entry, or all of the pipeline's (`cacheId` null); returns how many. */
  async deleteCaches(actor: Actor, pipelineId: number, cacheId: number | null): Promise<number> {
    const pipeline = await this.deps.pipelines.findById(pipelineId);
    if (!pipeline) throw notFound('Pipeline');
    await this.deps.access.require(actor, pipeline.project_id, 'edit', {
      what: 'Pipeline',
      createdBy: pipeline.created_by?.id ?? null,
      denied: "Your role in this project does not allow clearing this pipeline's caches (developers clear those of the pipelines they created)",
    });
    const removed = await this.deps.audit.change(async (tx, record) => {
      const rows = await this.deps.outputs.in(tx).deleteCaches(pipelineId, cacheId);
      if (rows.length > 0)
        await record(
          entry(
            actor,
            'pipeline.caches.delete',
            pipelineTarget(pipeline),
            { caches: { before: rows.map((r) => `${r.scope}/${r.key}`), after: [] } },
            pipeline.project_id,
          ),
        );
      return rows;
    });
    if (cacheId !== null && removed.length === 0) throw notFound('Cache');
    // The rows are gone first: a store that fails now leaves unreferenced objects, never listed caches without bytes.
    await Promise.all(removed.map((r) => this.deps.store.delete(r.object_key).catch(() => undefined)));
    return removed.length;
  }

  private async readableRun(actor: Actor, runId: number): Promise<void> {
    const projectId = await this.deps.runs.projectOf(runId);
    if (projectId === null) throw notFound('Run');
    await this.deps.access.require(actor, projectId, 'read', { what: 'Run' });
  }
}

const goneFromStore = () => new AppError('RESOURCE_NOT_FOUND', 'File not found in the artifact store (it may have been removed)');
