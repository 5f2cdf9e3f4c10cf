/**
 * What a backup archive holds, written first into it as `manifest.json` and checked before a
 * restore writes anything.
 */
export const BACKUP_FORMAT = 'ansflow-backup';
export const BACKUP_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
/** The SQLite database's name inside the archive and in a data folder. */
export const DATABASE_FILE = 'ansflow.db';
/** Folders of the data folder a backup keeps (workspaces are scratch space, rebuilt by each run). */
export const KEPT_FOLDERS = ['logs', 'artifacts'] as const;

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  version: number;
  created_at: string;
  /** `sqlite`: the database is in the archive; `postgres`: it is not (pg_dump it, docs/operations.md). */
  database: 'sqlite' | 'postgres';
  /** The migrations the copied database had, so a restore can say which release it needs. */
  migrations: string[];
  /** How many rows the copy had: what a restore reports and a test checks. */
  counts: Record<string, number>;
  /** Files of the data folder copied (relative paths), without the database and the manifest. */
  files: number;
}

export function parseManifest(text: string): BackupManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('its manifest.json is not JSON');
  }
  const m = value as Partial<BackupManifest> | null;
  if (!m || m.format !== BACKUP_FORMAT) throw new Error('it is not an AnsFlow backup (manifest.json names another format)');
  if (m.version !== BACKUP_VERSION) throw new Error(`it is backup format version ${String(m.version)}; this release reads version ${BACKUP_VERSION}`);
  if (m.database !== 'sqlite' && m.database !== 'postgres') throw new Error('its manifest names no database');
  if (!Array.isArray(m.migrations) || typeof m.counts !== 'object' || m.counts === null) throw new Error('its manifest is incomplete');
  return m as BackupManifest;
}
