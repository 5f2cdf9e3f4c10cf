/**
 * The engine's RunOutputs for one run, implemented with the outputs repository and the artifact
 * store: what the engine stored is recorded here, caches are looked up in the run's scopes, and a
 * saved cache evicts the least recently used entries beyond the installation's budget.
 */
import { randomBytes } from 'node:crypto';
import type { ArtifactStore } from '../../artifacts/artifact-store.js';
import type { OutputLimits, RunOutputs, StoredCache, TakenArtifacts } from '../../engine/artifacts/run-outputs.js';
import type { StepFrom } from '../../domain/step-outputs.js';
import { artifactArchive } from './artifact-archive.js';
import type { ArtifactFile, OutputsRepository } from '../../store/outputs-repository.js';
import type { Run } from '../../store/runs-repository.js';
import { cacheScopes } from '../../domain/cache-key.js';
import { retryWhileUnavailable } from '../../store/unavailable.js';

export interface StoreRunOutputsDeps {
  repository: OutputsRepository;
  store: ArtifactStore;
  limits: OutputLimits;
  cacheBudgetBytes: number;
  /** Days an artifact is kept when its step does not say; null: as long as its run. */
  defaultExpireDays: number | null;
  /** The worker recording snapshots (a snapshot in a store of this machine only serves retries here). */
  worker: string;
  onEvictError?: (error: unknown) => void;
}

/** The scopes of a run's caches: its pull request's, its branch's, and the pipeline's default branch's (domain/cache-key.ts). */
export function runCacheScopes(run: Run): { write: string; read: string[] } {
  const pr = run.trigger.pull_request;
  return cacheScopes({
    branch: run.branch,
    defaultBranch: run.definition.branch,
    pullRequest: pr ? { number: pr.number, targetBranch: pr.target_branch } : null,
  });
}

export function storeRunOutputs(run: Run, deps: StoreRunOutputsDeps): RunOutputs {
  const { repository, store } = deps;
  const pipelineId = run.pipeline.id;
  const recorded = <T>(write: () => Promise<T>) => retryWhileUnavailable(write);
  return {
    store,
    limits: deps.limits,
    cacheScopes: runCacheScopes(run),
    async findCaches(scopes): Promise<StoredCache[]> {
      if (pipelineId === null) return [];
      return (await repository.caches(pipelineId, scopes)).map((c) => ({
        id: c.id,
        scope: c.scope,
        key: c.key,
        objectKey: c.object_key,
        createdAt: c.created_at,
      }));
    },
    async cacheLookedUp({ restored, exact }) {
      if (pipelineId !== null) await recorded(() => repository.cacheLookedUp(pipelineId, restored?.id ?? null, exact));
    },
    newCacheKey: () => `caches/${pipelineId ?? 0}/${randomBytes(12).toString('hex')}.tgz`,
    async cacheSaved(e) {
      if (pipelineId === null) return 'exists';
      const saved = await recorded(() =>
        repository.saveCache({ pipelineId, scope: e.scope, key: e.key, objectKey: e.objectKey, size: e.size, entries: e.entries, runId: run.id }),
      );
      if (saved === 'saved') {
        const evicted = await repository.evictOverBudget(deps.cacheBudgetBytes, e.objectKey);
        for (const key of evicted) await store.delete(key).catch((error: unknown) => deps.onEvictError?.(error));
      }
      return saved;
    },
    async artifactStored(e) {
      const days = e.expireInDays ?? deps.defaultExpireDays;
      await recorded(() =>
        repository.recordArtifact({
          runId: run.id,
          stepRunId: e.stepId,
          name: e.name,
          keyPrefix: e.keyPrefix,
          files: e.files,
          refused: e.refused,
          bytes: e.bytes,
          expiresAt: days === null ? null : new Date(Date.now() + days * 86_400_000).toISOString(),
          error: e.error,
        }),
      );
    },
    async snapshotTaken(e) {
      await recorded(() => repository.recordSnapshot({ runId: run.id, stepRunId: e.stepId, objectKey: e.objectKey, size: e.size, worker: deps.worker }));
    },
    async snapshotFailed(e) {
      await recorded(() => repository.snapshotFailed({ stepRunId: e.stepId, message: e.message }));
    },
    artifactsFrom: (from) => artifactsFrom(run, from, deps),
  };
}

/**
 * A step's `from:`: the pipeline must be of the run's own project (the permission: a run reads only
 * its project's pipelines, as it opens only its project's credentials); then its newest successful
 * run on the branch (default: that pipeline's branch) and that run's stored artifacts not expired,
 * as one archive (a path two artifacts share: the later one's file).
 */
async function artifactsFrom(run: Run, from: StepFrom, deps: StoreRunOutputsDeps): Promise<TakenArtifacts> {
  const { repository, store } = deps;
  const named = typeof from.pipeline === 'number' ? `with id ${from.pipeline}` : `"${from.pipeline}"`;
  const source = await repository.pipelineInProject(run.project_id, from.pipeline);
  if (!source) throw new Error(`this run's project has no pipeline ${named} (a run takes artifacts only from its own project's pipelines)`);
  const branch = from.branch ?? source.branch;
  const latest = await repository.latestSuccessfulRun(source.id, branch);
  if (!latest) throw new Error(`pipeline "${source.name}" has no successful run on branch "${branch}"`);
  const now = new Date().toISOString();
  const artifacts = (await repository.artifactsOfRun(latest.id)).filter((a) => a.status === 'stored' && (a.expires_at === null || a.expires_at > now));
  if (artifacts.length === 0)
    throw new Error(`its latest successful run on branch "${branch}", #${latest.number}, has no artifacts left (none were stored, or they expired)`);
  const byPath = new Map<string, ArtifactFile>();
  for (const a of artifacts) for (const f of await repository.filesOf(a.id)) byPath.set(f.path, f);
  const files = [...byPath.values()];
  return {
    run: { id: latest.id, number: latest.number, pipeline: source.name, branch },
    artifacts: artifacts.map((a) => a.name),
    files: files.length,
    bytes: files.reduce((sum, f) => sum + f.size, 0),
    archive: artifactArchive(store, files, new Date()),
  };
}
