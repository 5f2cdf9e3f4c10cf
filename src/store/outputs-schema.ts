/** Row types of build outputs (migration 016): artifacts, caches, workspace snapshots. See store/schema.ts for the conventions. */
import type { Generated, Selectable } from 'kysely';

export interface RunArtifactsTable {
  id: Generated<number>;
  run_id: number;
  step_run_id: number | null;
  name: string;
  /** `stored`, or `failed` (then `error` says why and no file is listed). */
  status: string;
  file_count: number;
  size_bytes: number;
  /** JSON `[{path, reason}]`: matched paths that were not stored (links, not regular files). */
  refused: string;
  error: string | null;
  key_prefix: string;
  expires_at: string | null;
  created_at: string;
}

export interface RunArtifactFilesTable {
  id: Generated<number>;
  artifact_id: number;
  path: string;
  size_bytes: number;
  sha256: string;
  object_key: string;
}

export interface PipelineCachesTable {
  id: Generated<number>;
  pipeline_id: number;
  scope: string;
  key: string;
  object_key: string;
  size_bytes: number;
  entries: number;
  hits: Generated<number>;
  created_by_run_id: number | null;
  created_at: string;
  last_used_at: string;
}

export interface PipelineCacheStatsTable {
  pipeline_id: number;
  lookups: Generated<number>;
  exact_hits: Generated<number>;
  partial_hits: Generated<number>;
}

export interface RunSnapshotsTable {
  id: Generated<number>;
  run_id: number;
  step_run_id: number;
  object_key: string;
  size_bytes: number;
  /** The worker that took it: a snapshot in a store only that worker's machine sees is usable only there. */
  worker: string;
  created_at: string;
}

export interface BuildOutputsTables {
  run_artifacts: RunArtifactsTable;
  run_artifact_files: RunArtifactFilesTable;
  pipeline_caches: PipelineCachesTable;
  pipeline_cache_stats: PipelineCacheStatsTable;
  run_snapshots: RunSnapshotsTable;
}

export type RunArtifactRow = Selectable<RunArtifactsTable>;
export type PipelineCacheRow = Selectable<PipelineCachesTable>;
