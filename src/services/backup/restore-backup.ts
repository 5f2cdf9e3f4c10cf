/**
 * `ansflow restore FILE`: unpacks a backup into an EMPTY data folder (a missing one is made).
 * Everything is unpacked and checked beside it first and moved into place at the end, so a
 * failed restore leaves no half-restored folder, and a folder with data is never overwritten.
 *
 * The archive is not trusted: only plain files and folders under the names a backup writes are
 * unpacked (no links, no absolute or `..` paths, which tar refuses by itself too).
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { extract } from 'tar';
import { PREVIOUS_KEYS_FILE, SECRET_KEY_FILE } from '../secret-key.js';
import { DATABASE_FILE, KEPT_FOLDERS, MANIFEST_FILE, parseManifest, type BackupManifest } from './backup-manifest.js';

/** The restore was refused before anything was written. */
export class RestoreRefused extends Error {
  override name = 'RestoreRefused';
}

const TOP_LEVEL = new Set<string>([MANIFEST_FILE, SECRET_KEY_FILE, PREVIOUS_KEYS_FILE, DATABASE_FILE, ...KEPT_FOLDERS]);

export async function restoreBackup(file: string, dataDir: string): Promise<BackupManifest> {
  const target = resolve(dataDir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new RestoreRefused(`${target} is not a folder`);
    if (readdirSync(target).length > 0) throw new RestoreRefused(`${target} is not empty: a backup is restored only into an empty or new data folder`);
  }
  if (!existsSync(file) || !statSync(file).isFile()) throw new RestoreRefused(`${file} is not a file`);
  const staging = mkdtempSync(join(dirname(target), `.${basename(target)}.restoring-`));
  try {
    chmodSync(staging, 0o700);
    const refused: string[] = [];
    try {
      await extract({
        file,
        cwd: staging,
        strict: true,
        preservePaths: false,
        filter: (path, entry) => {
          const type = 'type' in entry ? entry.type : null;
          const top = path.replace(/^\.\//, '').split('/')[0]!;
          const ok = (type === 'File' || type === 'Directory') && TOP_LEVEL.has(top);
          if (!ok) refused.push(path);
          return ok;
        },
      });
    } catch (error) {
      throw new RestoreRefused(`${file} is not a readable backup archive: ${(error as Error).message}`);
    }
    if (refused.length > 0) throw new RestoreRefused(`${file} holds entries no backup writes (${refused.slice(0, 5).join(', ')}): refused`);
    if (!existsSync(join(staging, MANIFEST_FILE))) throw new RestoreRefused(`${file} is not an AnsFlow backup (no manifest.json)`);
    let manifest: BackupManifest;
    try {
      manifest = parseManifest(readFileSync(join(staging, MANIFEST_FILE), 'utf8'));
    } catch (error) {
      throw new RestoreRefused(`${file}: ${(error as Error).message}`);
    }
    if (!existsSync(join(staging, SECRET_KEY_FILE))) throw new RestoreRefused(`${file} has no secret key: its credentials could not be opened`);
    for (const key of [SECRET_KEY_FILE, PREVIOUS_KEYS_FILE]) if (existsSync(join(staging, key))) chmodSync(join(staging, key), 0o600);
    if (manifest.database === 'sqlite') checkDatabase(join(staging, DATABASE_FILE), file);
    rmSync(join(staging, MANIFEST_FILE));
    if (existsSync(target)) rmdirSync(target);
    renameSync(staging, target);
    return manifest;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function checkDatabase(path: string, file: string): void {
  if (!existsSync(path)) throw new RestoreRefused(`${file} says it holds a SQLite database but has none`);
  chmodSync(path, 0o600);
  let db: SQLite.Database | null = null;
  try {
    db = new SQLite(path, { readonly: true, fileMustExist: true });
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(String(check));
  } catch (error) {
    throw new RestoreRefused(`the database in ${file} is damaged: ${(error as Error).message}`);
  } finally {
    db?.close();
  }
}
