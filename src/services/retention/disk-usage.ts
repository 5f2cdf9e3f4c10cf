/**
 * What the data folder holds, for the System page: the database, logs, workspaces and artifacts.
 * Walking a folder of a million runs' logs takes a while, so sizes are measured in the background
 * at most every `maxAgeMs` and the last measurement is served (with when it was taken); the walk
 * yields to the event loop between folders, so requests are not held up.
 */
import type { Dirent } from 'node:fs';
import { lstat, readdir, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface DiskUsage {
  database_bytes: number | null;
  logs_bytes: number;
  workspaces_bytes: number;
  /** Artifacts do not exist yet: the folder is measured so the figure is there when they do. */
  artifacts_bytes: number;
  measured_at: string;
}

/** Bytes under a path (not following links); 0 when it does not exist. */
export async function folderBytes(path: string): Promise<number> {
  const info = await lstat(path).catch(() => null);
  if (!info) return 0;
  if (!info.isDirectory()) return info.size;
  let total = 0;
  const entries = await readdir(path).catch(() => [] as string[]);
  for (const name of entries) {
    total += await folderBytes(join(path, name));
  }
  await new Promise((r) => setImmediate(r));
  return total;
}

/**
 * Removes a path (never following links) and returns the bytes its files held, in one pass: each
 * entry is looked at once (readdir with types; lstat only for a file's size), then unlinked, and
 * each folder removed once empty; 0 when it does not exist. What cannot be unlinked (a folder a
 * step made read-only) goes by forced removal; its bytes are counted all the same, as folderBytes
 * counts them.
 */
export async function removeCounting(path: string): Promise<number> {
  const info = await lstat(path).catch(() => null);
  if (!info) return 0;
  if (info.isDirectory()) return removeFolder(path);
  await unlink(path).catch(() => undefined);
  return info.size;
}

async function removeFolder(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true }).catch(() => [] as Dirent[])) {
    const child = join(path, entry.name);
    // A link is an entry like a file: its own size, removed, never followed.
    if (entry.isDirectory()) {
      total += await removeFolder(child);
      continue;
    }
    total += (await lstat(child).catch(() => null))?.size ?? 0;
    await unlink(child).catch(() => undefined);
  }
  await rmdir(path).catch(() => rm(path, { recursive: true, force: true, maxRetries: 2 }).catch(() => undefined));
  return total;
}

export interface DiskUsageDeps {
  logsRoot: string;
  workspaceRoot: string;
  artifactsRoot: string;
  /** The database's size: its files for SQLite, pg_database_size for PostgreSQL. */
  databaseBytes: () => Promise<number | null>;
  maxAgeMs?: number;
}

export class DiskUsageMeter {
  private last: DiskUsage | null = null;
  private running: Promise<DiskUsage> | null = null;

  constructor(private readonly deps: DiskUsageDeps) {}

  /** The last measurement (null before the first), starting a new one when it is old. */
  current(): DiskUsage | null {
    const age = this.last ? Date.now() - Date.parse(this.last.measured_at) : Infinity;
    if (age > (this.deps.maxAgeMs ?? 60_000)) void this.measure().catch(() => undefined);
    return this.last;
  }

  measure(): Promise<DiskUsage> {
    this.running ??= (async () => {
      try {
        const [database_bytes, logs_bytes, workspaces_bytes, artifacts_bytes] = await Promise.all([
          this.deps.databaseBytes().catch(() => null),
          folderBytes(this.deps.logsRoot),
          folderBytes(this.deps.workspaceRoot),
          folderBytes(this.deps.artifactsRoot),
        ]);
        this.last = { database_bytes, logs_bytes, workspaces_bytes, artifacts_bytes, measured_at: new Date().toISOString() };
        return this.last;
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }
}

/** SQLite's database: the file and its write-ahead log. */
export async function sqliteFilesBytes(file: string): Promise<number> {
  let total = 0;
  for (const path of [file, `${file}-wal`, `${file}-shm`]) total += (await stat(path).catch(() => null))?.size ?? 0;
  return total;
}
