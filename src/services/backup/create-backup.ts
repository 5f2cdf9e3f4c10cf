/**
 * `ansflow backup FILE`: one archive (tar.gz) with everything an installation needs to come back:
 * the database (SQLite: copied with SQLite's online backup API, a consistent snapshot while
 * servers keep writing; PostgreSQL: not included, pg_dump it, see docs/operations.md), the key
 * ring that opens its secret variables and credentials, the run logs and artifacts.
 *
 * The database is copied before the logs, so every log the copy knows of is there (as far as it
 * had been written). The key ring is read before and after the database, and both are kept: a
 * secret-key rotation running meanwhile may have sealed values in the copy under a key that did
 * not exist before it, or removed a key that still sealed some.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { create as createTar } from 'tar';
import type { Config } from '../../config.js';
import { openDb } from '../../store/db.js';
import { PREVIOUS_KEYS_FILE, SECRET_KEY_FILE, secretKeySource } from '../secret-key.js';
import { BACKUP_FORMAT, BACKUP_VERSION, DATABASE_FILE, KEPT_FOLDERS, MANIFEST_FILE, type BackupManifest } from './backup-manifest.js';
import { copyTree } from './copy-tree.js';

/** Tables whose row counts a manifest records. */
export const COUNTED_TABLES = [
  'users',
  'projects',
  'pipelines',
  'pipeline_runs',
  'step_runs',
  'credentials',
  'webhook_deliveries',
  'log_chunks',
  'audit_events',
];

export type BackupConfig = Pick<Config, 'dataDir' | 'databaseUrl' | 'secretKey' | 'secretKeyPrevious'>;

export function isPostgresUrl(url: string | null): boolean {
  return !!url && /^postgres(ql)?:\/\//.test(url);
}

export function sqliteFileOf(config: Pick<Config, 'dataDir' | 'databaseUrl'>): string {
  const url = config.databaseUrl;
  return url?.startsWith('sqlite://') ? url.slice('sqlite://'.length) : join(config.dataDir, DATABASE_FILE);
}

export async function createBackup(config: BackupConfig, file: string): Promise<BackupManifest> {
  const target = resolve(file);
  mkdirSync(dirname(target), { recursive: true });
  // Beside the archive: the staging copy holds secrets, so it is private and never in /tmp by default.
  const staging = mkdtempSync(join(dirname(target), `.${basename(target)}.staging-`));
  const partial = join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
  try {
    chmodSync(staging, 0o700);
    const keysBefore = secretKeySource(config).load();
    const postgres = isPostgresUrl(config.databaseUrl);
    const facts = postgres ? await postgresFacts(config) : await sqliteSnapshot(sqliteFileOf(config), join(staging, DATABASE_FILE));
    const keys = secretKeySource(config).load();
    const previous = [...new Set([keysBefore.current, ...keysBefore.previous, ...keys.previous])].filter((k) => k !== keys.current);
    writeFileSync(join(staging, SECRET_KEY_FILE), keys.current + '\n', { mode: 0o600 });
    if (previous.length > 0) writeFileSync(join(staging, PREVIOUS_KEYS_FILE), previous.join('\n') + '\n', { mode: 0o600 });

    let files = 0;
    for (const folder of KEPT_FOLDERS) files += copyTree(join(config.dataDir, folder), join(staging, folder));

    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      created_at: new Date().toISOString(),
      database: postgres ? 'postgres' : 'sqlite',
      ...facts,
      files,
    };
    writeFileSync(join(staging, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
    const entries = [MANIFEST_FILE, SECRET_KEY_FILE, ...(previous.length > 0 ? [PREVIOUS_KEYS_FILE] : []), ...(postgres ? [] : [DATABASE_FILE])];
    for (const folder of KEPT_FOLDERS) entries.push(folder);
    await createTar(
      { gzip: true, file: partial, cwd: staging, portable: true, mode: 0o600 } as never,
      entries.filter((e) => existsSync(join(staging, e))),
    );
    chmodSync(partial, 0o600);
    // Whole or not at all: a reader of FILE never sees half an archive.
    renameSync(partial, target);
    return manifest;
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(partial, { force: true });
  }
}

/** SQLite's online backup: pages copied from one read snapshot; writers go on meanwhile (WAL). */
async function sqliteSnapshot(source: string, copy: string): Promise<Pick<BackupManifest, 'migrations' | 'counts'>> {
  let db: SQLite.Database;
  try {
    db = new SQLite(source, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new Error(`cannot open the database ${source}: ${(error as Error).message}`);
  }
  try {
    db.pragma('busy_timeout = 5000');
    // All pages in one step: one snapshot, never restarted by a write in between.
    await db.backup(copy, { progress: () => 0x7fffffff });
  } finally {
    db.close();
  }
  chmodSync(copy, 0o600);
  const snapshot = new SQLite(copy, { readonly: true });
  try {
    const check = snapshot.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`the copied database fails SQLite's check: ${String(check)}`);
    const migrations = (snapshot.prepare('select name from ansflow_migrations order by name').all() as { name: string }[]).map((r) => r.name);
    const counts: Record<string, number> = {};
    for (const table of COUNTED_TABLES) counts[table] = (snapshot.prepare(`select count(*) as n from "${table}"`).get() as { n: number }).n;
    return { migrations, counts };
  } finally {
    snapshot.close();
  }
}

async function postgresFacts(config: BackupConfig): Promise<Pick<BackupManifest, 'migrations' | 'counts'>> {
  const db = openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
  try {
    const k = db.kysely as unknown as import('kysely').Kysely<Record<string, { name: string }>>;
    const migrations = (await k.selectFrom('ansflow_migrations').select('name').orderBy('name').execute()).map((r) => r.name);
    const counts: Record<string, number> = {};
    for (const table of COUNTED_TABLES) {
      const row = await (k as any)
        .selectFrom(table)
        .select((eb: any) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      counts[table] = Number(row.n);
    }
    return { migrations, counts };
  } finally {
    await db.close();
  }
}
