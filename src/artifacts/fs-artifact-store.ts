/**
 * The filesystem adapter: objects are files under one root folder (by default `<data>/artifacts`).
 * A put writes a hidden temporary file beside its target and renames it into place, so a reader
 * sees the old object or the new one, never half of one, and listing skips the temporary files.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { artifactKey, artifactPrefix } from './artifact-key.js';
import { ArtifactStoreError, type ArtifactStore, type ObjectInfo, type StoredObject } from './artifact-store.js';
import { HashingStream } from './hashing-stream.js';

const TEMP_PREFIX = '.put-';
/** Streams move 1 MiB at a time: with Node's 64 KiB default a 500 MB artifact costs 8,000 round trips through the event loop. */
export const CHUNK_BYTES = 1024 * 1024;

export class FsArtifactStore implements ArtifactStore {
  readonly kind = 'filesystem' as const;

  constructor(readonly location: string) {}

  private pathOf(key: string): string {
    return join(this.location, ...artifactKey(key).split('/'));
  }

  async put(key: string, body: Readable): Promise<StoredObject> {
    const target = this.pathOf(key);
    const temp = join(dirname(target), `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    const hashing = new HashingStream();
    try {
      // Inside the try: a store folder that cannot be made is a storage error naming the store too.
      await mkdir(dirname(target), { recursive: true });
      await pipeline(body, hashing, createWriteStream(temp, { flags: 'wx', mode: 0o640, highWaterMark: CHUNK_BYTES }));
      await syncFile(temp);
      await rename(temp, target);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw new ArtifactStoreError(`storing ${key} in ${this.location} failed: ${(error as Error).message}`, error);
    }
    return { key, size: hashing.bytesSeen, sha256: hashing.digest() };
  }

  async get(key: string, range?: { start: number; end?: number }): Promise<Readable | null> {
    const path = this.pathOf(key);
    // Opening first turns "absent" into null here rather than an error event later on the stream.
    const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'EISDIR' || error.code === 'ENOTDIR') return null;
      throw new ArtifactStoreError(`reading ${key} from ${this.location} failed: ${error.message}`, error);
    });
    if (!handle) return null;
    return handle.createReadStream({ start: range?.start, end: range?.end, highWaterMark: CHUNK_BYTES });
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    const info = await stat(this.pathOf(key)).catch(() => null);
    return info?.isFile() ? { key, size: info.size, modifiedAt: info.mtime } : null;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    artifactPrefix(prefix);
    const start = prefix === '' ? this.location : join(this.location, ...prefix.slice(0, -1).split('/'));
    const paths: string[] = [];
    await collectFiles(start, paths);
    // Key order, as S3 lists: sorting paths would put `a/b` and `a.b` the other way round.
    const keys = paths.map((path) => relative(this.location, path).split(sep).join('/')).sort();
    for (const key of keys) {
      const info = await stat(join(this.location, ...key.split('/'))).catch(() => null);
      if (info?.isFile()) yield { key, size: info.size, modifiedAt: info.mtime };
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async deletePrefix(prefix: string): Promise<number> {
    let removed = 0;
    for await (const object of this.list(prefix)) {
      await this.delete(object.key);
      removed += 1;
    }
    if (prefix !== '') await rm(join(this.location, ...prefix.slice(0, -1).split('/')), { recursive: true, force: true });
    return removed;
  }

  async close(): Promise<void> {}
}

async function collectFiles(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.name.startsWith(TEMP_PREFIX)) continue;
    const path = join(dir, entry.name);
    // Symbolic links are never followed: the store only ever holds files it wrote itself.
    if (entry.isDirectory()) await collectFiles(path, out);
    else if (entry.isFile()) out.push(path);
  }
}

/** Flushes the file to disk before the rename publishes it, so a crash cannot leave a named but empty object. */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
