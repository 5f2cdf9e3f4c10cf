/**
 * The engine's RunOutputs for one run, implemented with the outputs repository and the artifact
 * store: what the engine stored is recorded here, caches are looked up in the run's scopes, and a
 * saved cache evicts the least recently used entries beyond the installation's budget.
 */
import { randomBytes } from 'node:crypto';
import type { ArtifactStore } from '../../artifacts/artifact-store.js';
import type { OutputLimits, RunOutputs, StoredCache } from '../../engine/artifacts/run-outputs.js';
import type { OutputsRepository } from '../../store/outputs-repository.js';
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
  };
}
