/**
 * The RunOutputs port: what the engine needs to keep a run's outputs (artifacts, caches, workspace
 * snapshots) beyond the workspace. The bytes go to the ArtifactStore; what was stored is recorded
 * through the methods here, which services implement with the database. The engine never decides
 * who may read what: scopes come in ready-made.
 *
 * Keys the engine writes under:
 *   runs/<run>/artifacts/s<step>/<n>   the n-th file of a step's artifact
 *   runs/<run>/snapshots/s<step>.tgz   the workspace after the step succeeded: what changed since
 *                                      the run's previous snapshot (workspace-snapshot.ts)
 *   runs/<run>/snapshots/s<step>.json  its manifest: every path, and the snapshot it builds on
 *   caches/<pipeline>/<random>.tgz     one cache entry (the recorder names it; see newCacheKey)
 */
import type { Readable } from 'node:stream';
import type { ArtifactStore } from '../../artifacts/artifact-store.js';
import type { StepFrom } from '../../domain/step-outputs.js';
import type { CollectedFile, RefusedFile } from './collect-artifact.js';

export interface OutputLimits {
  /** The most one artifact may hold. */
  artifactBytes: number;
  /** The most all artifacts of one run may hold together. */
  runArtifactBytes: number;
  /** The most one cache entry may hold (compressed). */
  cacheBytes: number;
  /** Workspaces up to this size are snapshotted after each step that a later step needs; null: never. */
  snapshotBytes: number | null;
}

/** A cache entry as the engine sees it when choosing one to restore. */
export interface StoredCache {
  id: number;
  scope: string;
  key: string;
  objectKey: string;
  createdAt: string;
}

/** Another pipeline's artifacts a step takes (`from:`): which run they come from, and their files as one tar.gz. */
export interface TakenArtifacts {
  run: { id: number; number: number; pipeline: string; branch: string };
  artifacts: string[];
  files: number;
  bytes: number;
  archive: Readable;
}

export interface RunOutputs {
  store: ArtifactStore;
  limits: OutputLimits;
  /** Where this run writes caches and where it reads them, in order (domain/cache-key.ts cacheScopes). */
  cacheScopes: { write: string; read: string[] };
  /** The cache entries of these scopes (their keys and ages; not their bytes). */
  findCaches(scopes: readonly string[]): Promise<StoredCache[]>;
  /** A lookup's end: the entry restored (exact key or a restore key), or none. */
  cacheLookedUp(e: { restored: StoredCache | null; exact: boolean }): Promise<void>;
  /** A fresh store key for a cache entry about to be written. */
  newCacheKey(): string;
  /**
   * Records a cache entry whose object is stored. `exists` when another run wrote the same scope
   * and key first (the caller then removes its object); evicting older entries over the budget is
   * the recorder's job.
   */
  cacheSaved(e: { stepId: number; scope: string; key: string; objectKey: string; size: number; entries: number }): Promise<'saved' | 'exists'>;
  /** An artifact whose files are all stored (or, with `error`, one that could not be: nothing of it is kept). */
  artifactStored(e: {
    stepId: number;
    name: string;
    keyPrefix: string;
    files: CollectedFile[];
    refused: RefusedFile[];
    bytes: number;
    expireInDays: number | null;
    error: string | null;
  }): Promise<void>;
  snapshotTaken(e: { stepId: number; objectKey: string; size: number }): Promise<void>;
  /**
   * The step's snapshot could not be taken or stored (`message` says why; a retry from a later
   * step will not be offered). Recorded on the step, whose result is already reported.
   */
  snapshotFailed(e: { stepId: number; message: string }): Promise<void>;
  /**
   * The artifacts of another pipeline's latest successful run on a branch (a step's `from:`). Throws
   * an Error whose message says why not (no such pipeline in this run's project, no successful run
   * on that branch, none of its artifacts left); that message fails the step.
   */
  artifactsFrom(from: StepFrom): Promise<TakenArtifacts>;
}

export const artifactPrefixOf = (runId: number, stepId: number) => `runs/${runId}/artifacts/s${stepId}`;
export const snapshotKeyOf = (runId: number, stepId: number) => `runs/${runId}/snapshots/s${stepId}.tgz`;
export const runOutputsPrefix = (runId: number) => `runs/${runId}/`;
