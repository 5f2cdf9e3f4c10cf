/**
 * A RunOutputs for engine tests: the bytes go to a real ArtifactStore, the records stay in memory
 * (the database side has its own tests: test/store/outputs-repository.test.ts and the API's).
 */
import { randomBytes } from 'node:crypto';
import type { ArtifactStore } from '../../src/artifacts/artifact-store.js';
import type { OutputLimits, RunOutputs, StoredCache, TakenArtifacts } from '../../src/engine/artifacts/run-outputs.js';
import type { StepFrom } from '../../src/domain/step-outputs.js';

type Artifact = Parameters<RunOutputs['artifactStored']>[0];
type SavedCache = Parameters<RunOutputs['cacheSaved']>[0] & { createdAt: string; id: number };

export class RecordedOutputs implements RunOutputs {
  readonly artifacts: Artifact[] = [];
  readonly caches: SavedCache[] = [];
  readonly lookups: { restored: StoredCache | null; exact: boolean }[] = [];
  readonly snapshots: { stepId: number; objectKey: string; size: number }[] = [];
  readonly snapshotFailures: { stepId: number; message: string }[] = [];
  private nextId = 1;

  constructor(
    readonly store: ArtifactStore,
    readonly cacheScopes: { write: string; read: string[] } = { write: 'branch-main', read: ['branch-main'] },
    readonly limits: OutputLimits = { artifactBytes: 1 << 30, runArtifactBytes: 1 << 30, cacheBytes: 1 << 30, snapshotBytes: 1 << 30 },
  ) {}

  /** The same records, seen by a run with other scopes (a pull request's). */
  withScopes(scopes: { write: string; read: string[] }): RecordedOutputs {
    const other = new RecordedOutputs(this.store, scopes, this.limits);
    Object.assign(other, {
      caches: this.caches,
      artifacts: this.artifacts,
      lookups: this.lookups,
      snapshots: this.snapshots,
      snapshotFailures: this.snapshotFailures,
    });
    return other;
  }

  async findCaches(scopes: readonly string[]): Promise<StoredCache[]> {
    return this.caches
      .filter((c) => scopes.includes(c.scope))
      .map((c) => ({ id: c.id, scope: c.scope, key: c.key, objectKey: c.objectKey, createdAt: c.createdAt }));
  }
  async cacheLookedUp(e: { restored: StoredCache | null; exact: boolean }) {
    this.lookups.push(e);
  }
  newCacheKey() {
    return `caches/7/${randomBytes(8).toString('hex')}.tgz`;
  }
  async cacheSaved(e: Parameters<RunOutputs['cacheSaved']>[0]): Promise<'saved' | 'exists'> {
    if (this.caches.some((c) => c.scope === e.scope && c.key === e.key)) return 'exists';
    this.caches.push({ ...e, id: this.nextId++, createdAt: new Date(Date.now() + this.nextId).toISOString() });
    return 'saved';
  }
  async artifactStored(e: Artifact) {
    this.artifacts.push(e);
  }
  async snapshotTaken(e: { stepId: number; objectKey: string; size: number }) {
    this.snapshots.push(e);
  }
  async snapshotFailed(e: { stepId: number; message: string }) {
    this.snapshotFailures.push(e);
  }
  /** What a step's `from:` gets: set `taken` (or leave it to answer "none"). */
  taken: ((from: StepFrom) => Promise<TakenArtifacts>) | null = null;
  async artifactsFrom(from: StepFrom): Promise<TakenArtifacts> {
    if (!this.taken) throw new Error('it has no successful run');
    return this.taken(from);
  }
}
