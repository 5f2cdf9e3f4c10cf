/**
 * The server's secret key: ANSFLOW_SECRET_KEY when set, else generated once into the data folder
 * (mode 0600) so tokens and sealed secrets survive restarts.
 *
 * During a rotation the key ring has more than one key. From the environment: the old keys are in
 * ANSFLOW_SECRET_KEY_PREVIOUS. In the data folder: `secret.key` holds the new key and
 * `secret.key.previous` the old ones (one a line) until every value is re-sealed; processes reading
 * the folder notice both files changing (KeySource.changed) and reload.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeySource, SecretKeys } from '../store/secret-box.js';

export const SECRET_KEY_FILE = 'secret.key';
export const PREVIOUS_KEYS_FILE = 'secret.key.previous';
const MIN_KEY_LENGTH = 32;

export function loadOrCreateSecretKey(configured: string | null, dataDir: string): string {
  if (configured) return configured;
  const file = join(dataDir, SECRET_KEY_FILE);
  const existing = readKeyFile(file)[0];
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true });
  const key = newSecretKey();
  // 'wx' fails if another process created it first; then read theirs.
  try {
    writeFileSync(file, key + '\n', { mode: 0o600, flag: 'wx' });
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw error;
  }
}

export const newSecretKey = () => randomBytes(48).toString('base64url');

/** The keys of this installation, from the environment when ANSFLOW_SECRET_KEY is set, else from the data folder. */
export function secretKeySource(config: { secretKey: string | null; secretKeyPrevious: readonly string[]; dataDir: string }): KeySource {
  if (config.secretKey) {
    const keys: SecretKeys = { current: config.secretKey, previous: config.secretKeyPrevious };
    return { load: () => keys, changed: () => false };
  }
  return dataDirKeySource(config.dataDir);
}

/** The key files of a data folder; `changed` is two stat calls. */
export function dataDirKeySource(dataDir: string): KeySource {
  const keyFile = join(dataDir, SECRET_KEY_FILE);
  const previousFile = join(dataDir, PREVIOUS_KEYS_FILE);
  const signature = () => `${fileSignature(keyFile)}|${fileSignature(previousFile)}`;
  let loaded = '';
  return {
    load() {
      // The key is created (first start) before its signature is taken, or the next check would
      // see the new file and load again; the files are read after it, so a change made between
      // the two shows at the next check.
      loadOrCreateSecretKey(null, dataDir);
      loaded = signature();
      return { current: loadOrCreateSecretKey(null, dataDir), previous: readKeyFile(previousFile) };
    },
    changed: () => signature() !== loaded,
  };
}

/**
 * Starts (or resumes) a rotation of the data folder's key: the old keys go to `secret.key.previous`
 * first, then the new key replaces `secret.key`, each file replaced atomically, so a process that
 * reloads between the two writes still has every key it needs. A rotation that was interrupted
 * (the previous file is still there) is resumed with the key already written.
 */
export function beginDataDirRotation(dataDir: string): { keys: SecretKeys; resumed: boolean } {
  const previousFile = join(dataDir, PREVIOUS_KEYS_FILE);
  const current = loadOrCreateSecretKey(null, dataDir);
  const previous = readKeyFile(previousFile);
  if (previous.length > 0) return { keys: { current, previous }, resumed: true };
  const next = newSecretKey();
  writeAtomically(previousFile, current + '\n');
  writeAtomically(join(dataDir, SECRET_KEY_FILE), next + '\n');
  return { keys: { current: next, previous: [current] }, resumed: false };
}

/** Every value is sealed under the new key: the old ones are forgotten. */
export function finishDataDirRotation(dataDir: string): void {
  rmSync(join(dataDir, PREVIOUS_KEYS_FILE), { force: true });
}

function readKeyFile(file: string): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length >= MIN_KEY_LENGTH);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

function writeAtomically(file: string, content: string): void {
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, content, { mode: 0o600 });
  renameSync(temporary, file);
}

// Called on every seal (two files, one usually missing): a missing file answers undefined rather
// than an exception, which cost as much as the stat itself.
function fileSignature(file: string): string {
  try {
    const s = statSync(file, { throwIfNoEntry: false });
    return s ? `${s.ino}:${s.mtimeMs}:${s.size}` : 'none';
  } catch {
    return 'none';
  }
}
