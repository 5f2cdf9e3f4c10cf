/**
 * The retention sweeper. Every `intervalMs` each process that runs one tries to claim the sweep
 * (RetentionRepository.claim: one guarded UPDATE with a lease), so one process sweeps at a time
 * however many run. The holder walks every pipeline's policy and removes expired runs in batches
 * of `batch`: each batch is one short transaction (one DELETE of the batch's rows; their steps,
 * log chunks and other rows go by foreign key, every one of them indexed (migration 023), and the
 * counters by trigger), then its log folders, workspaces and artifacts on disk, `fileConcurrency`
 * runs at a time, each folder walked once to count its bytes as it is removed. Between batches it
 * renews its lease and pauses `pauseMs`, so runs and requests get the database in between.
 * Run numbers never repeat: they come from `pipelines.run_counter`, which deleting runs never
 * touches. Artifacts past their `expire_in_days` go first, in batches too, whatever the runs'
 * policies (their runs stay), then audit events past the audit log's retention (each batch with an
 * `audit.prune` event of its own). Each sweep first removes what a process that died mid-put left in the filesystem artifact store.
 * `now` is the sweeper's clock (a test moves it ahead).
 */
import { basename, join } from 'node:path';
import { lstat, readdir } from 'node:fs/promises';
import { effectiveRetention, expiryCutoff, limitsHistory, type RetentionPolicy } from '../../domain/retention.js';
import type { RetentionRepository } from '../../store/retention-repository.js';
import { removeWorkspace, workspacePaths } from '../../engine/workspace.js';
import { removeCounting } from './disk-usage.js';

/** Where artifacts will be removed when they exist (the ArtifactStore port of the design). */
export type RemoveArtifacts = (runId: number) => Promise<number>;

/** Removes up to `limit` artifacts expired at `now` (rows, then their objects); how many, and the bytes freed. */
export type RemoveExpiredArtifacts = (now: string, limit: number) => Promise<{ removed: number; bytes: number }>;

/** Removes up to `limit` audit events past their retention at `now`; how many. */
export type PruneAuditEvents = (now: string, limit: number) => Promise<number>;

export interface SweeperDeps {
  retention: RetentionRepository;
  defaults: RetentionPolicy;
  owner: string;
  logsRoot: string;
  workspaceRoot: string;
  /** The hook for artifacts; returns the bytes freed. Today: nothing to remove. */
  removeArtifacts?: RemoveArtifacts;
  /** Artifacts past their `expire_in_days`. */
  removeExpiredArtifacts?: RemoveExpiredArtifacts;
  /** Audit events past `ANSFLOW_AUDIT_RETENTION_DAYS` (absent: the log is kept whole). */
  pruneAuditEvents?: PruneAuditEvents;
  /** What processes that died mid-write left in the store (the filesystem store's temporary files); returns how many went. */
  removeLeftovers?: (now: number) => Promise<number>;
  /** The clock (ms since the epoch); default Date.now. */
  now?: () => number;
  intervalMs: number;
  batch: number;
  pauseMs?: number;
  /** How many runs' files are removed at once (default 8): file removal waits on the disk, not the CPU. */
  fileConcurrency?: number;
  leaseSeconds?: number;
  onError?: (error: unknown) => void;
}

export interface SweepResult {
  deleted: number;
  freedBytes: number;
  /** Artifacts removed because they expired (their runs kept). */
  expiredArtifacts: number;
  /** Audit events removed because they were past the audit log's retention. */
  auditEvents: number;
  /** Temporary files of puts a dead process left in the artifact store. */
  leftovers: number;
}

/** Audit events removed per transaction: small rows without files, so more than a batch of runs. */
const AUDIT_BATCH = 1000;

export class RetentionSweeper {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<SweepResult | null> | null = null;
  private stopped = false;

  constructor(private readonly deps: SweeperDeps) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  start(): void {
    const tick = () => {
      this.timer = setTimeout(() => {
        void this.sweepOnce()
          .catch((error: unknown) => this.deps.onError?.(error))
          .finally(() => {
            if (!this.stopped) tick();
          });
      }, this.deps.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.sweeping?.catch(() => null);
  }

  /** One sweep if this process gets the claim; null when another process holds it. */
  sweepOnce(): Promise<SweepResult | null> {
    this.sweeping ??= this.sweep().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async sweep(): Promise<SweepResult | null> {
    const { retention, owner } = this.deps;
    const lease = this.deps.leaseSeconds ?? 60;
    if (!(await retention.claim(owner, lease, this.now()))) return null;
    await retention.started(owner);
    const result: SweepResult = { deleted: 0, freedBytes: 0, expiredArtifacts: 0, auditEvents: 0, leftovers: 0 };
    let error: string | null = null;
    try {
      if (this.deps.removeLeftovers) result.leftovers = await this.deps.removeLeftovers(this.now());
      for (const remove = this.deps.removeExpiredArtifacts; remove;) {
        if (this.stopped) return result;
        const { removed, bytes } = await remove(new Date(this.now()).toISOString(), this.deps.batch);
        result.expiredArtifacts += removed;
        result.freedBytes += bytes;
        if (removed < this.deps.batch) break;
        if (!(await retention.claim(owner, lease, this.now()))) return result;
        await new Promise((r) => setTimeout(r, this.deps.pauseMs ?? 20));
      }
      for (const prune = this.deps.pruneAuditEvents; prune;) {
        if (this.stopped) return result;
        const removed = await prune(new Date(this.now()).toISOString(), AUDIT_BATCH);
        result.auditEvents += removed;
        if (removed < AUDIT_BATCH) break;
        if (!(await retention.claim(owner, lease, this.now()))) return result;
        await new Promise((r) => setTimeout(r, this.deps.pauseMs ?? 20));
      }
      for (const own of await retention.policies()) {
        const policy = effectiveRetention(own, this.deps.defaults);
        if (!limitsHistory(policy)) continue;
        const cutoff = expiryCutoff(policy, this.now());
        for (;;) {
          if (this.stopped) return result;
          const ids = await retention.expired(own.pipelineId, policy, cutoff, this.deps.batch);
          if (ids.length === 0) break;
          const deleted = await retention.deleteRuns(ids);
          result.deleted += deleted.length;
          result.freedBytes += await this.removeAllFiles(deleted);
          // Keep the claim while working; give runs and requests the database between batches.
          if (!(await retention.claim(owner, lease, this.now()))) return result;
          await new Promise((r) => setTimeout(r, this.deps.pauseMs ?? 20));
          if (deleted.length === 0) break;
        }
      }
      return result;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      throw e;
    } finally {
      await retention.finished(owner, { deleted: result.deleted, freedBytes: result.freedBytes, error }).catch(() => undefined);
    }
  }

  /** The files of these runs, a bounded number of runs at a time; returns the bytes they held. */
  private async removeAllFiles(runIds: number[]): Promise<number> {
    // Workspaces are usually gone already (the worker's own workspace retention): one look at the
    // folder for the batch instead of two per run.
    const workspaces = new Set(await readdir(this.deps.workspaceRoot).catch(() => [] as string[]));
    let next = 0;
    let bytes = 0;
    const worker = async () => {
      while (next < runIds.length) {
        // Not `bytes += await …`: that reads `bytes` before the wait and loses the others' sums.
        const freed = await this.removeFiles(runIds[next++]!, workspaces);
        bytes += freed;
      }
    };
    const width = Math.max(1, Math.min(this.deps.fileConcurrency ?? 8, runIds.length));
    await Promise.all(Array.from({ length: width }, worker));
    return bytes;
  }

  /** The run's log folder, workspace and artifacts; returns the bytes they held. */
  private async removeFiles(runId: number, workspaces: Set<string>): Promise<number> {
    const { workspaceRoot } = this.deps;
    let bytes = await removeCounting(join(this.deps.logsRoot, String(runId)));
    // A workspace folder is removed as it is counted; a link to a sandbox slot (counted as the
    // link, as before) and anything left behind go the engine's way, which knows slots and
    // read-only folders.
    const { path, home } = workspacePaths(workspaceRoot, runId);
    if (workspaces.has(basename(path)) || workspaces.has(basename(home))) {
      for (const entry of [path, home]) {
        const info = await lstat(entry).catch(() => null);
        if (info) bytes += info.isSymbolicLink() ? info.size : await removeCounting(entry);
      }
      await removeWorkspace(workspaceRoot, runId);
    }
    bytes += (await this.deps.removeArtifacts?.(runId)) ?? 0;
    return bytes;
  }
}
