/**
 * The filesystem adapter: objects are files under one root folder (by default `<data>/artifacts`).
 * A put writes a hidden temporary file beside its target and renames it into place, so a reader
 * sees the old object or the new one, never half of one, and listing skips the temporary files.
 *
 * Files move in the kernel where they can (copy_file_range through fs.copyFile): `getToFile`
 * copies the object, and `putFile` of a large file copies it into the temporary file while this
 * thread reads it through SHA-256, and flushes the copy (fsync) while the hash may still be going,
 * so a put costs the slower of SHA-256 and copy + fsync, not their sum. A Node
 * copy loop (read into a fresh buffer, write it out) cost 4-14x `cp` on 500 MB, nearly all of it in
 * the kernel (two copies of every byte and a page fault for each page of each new buffer).
 * `get` streams through FileReadStream, which sends itself into an HTTP response through a few
 * reused buffers (the download routes) for the same reason.
 */
import { constants, createWriteStream, type BigIntStats, type WriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { artifactKey, artifactPrefix } from './artifact-key.js';
import { ArtifactStoreError, SourceTooLargeError, sourceTooLarge, type ArtifactStore, type ObjectInfo, type StoredObject } from './artifact-store.js';
import { HashingStream } from './hashing-stream.js';
import { CHUNK_BYTES, fileBody } from './file-body.js';
import { FileReadStream } from './file-read-stream.js';

export { CHUNK_BYTES } from './file-body.js';

/** Temporary files of puts under way; one older than `sweepTemporary`'s age is a dead process's. */
export const TEMP_PREFIX = '.put-';
/** Smaller files are stored in one pass: a kernel copy's set-up (a second open, a stat, a chmod) is not worth it. */
const KERNEL_COPY_MIN_BYTES = 4 * CHUNK_BYTES;
/**
 * A file modified this recently is stored in one pass: file times come from a coarse clock (a few
 * ms), so a write within the same tick as the last one need not move them, and the before-and-after
 * comparison would not see it.
 */
const RACY_MS = 50;
const FILE_MODE = 0o640;

export class FsArtifactStore implements ArtifactStore {
  readonly kind = 'filesystem' as const;

  constructor(readonly location: string) {}

  private pathOf(key: string): string {
    return join(this.location, ...artifactKey(key).split('/'));
  }

  async put(key: string, body: Readable): Promise<StoredObject> {
    const target = this.pathOf(key);
    const temp = tempBeside(target);
    const hashing = new HashingStream();
    let out: WriteStream | null = null;
    try {
      // Inside the try: a store folder that cannot be made is a storage error naming the store too.
      await mkdir(dirname(target), { recursive: true });
      out = createWriteStream(temp, { flags: 'wx', mode: FILE_MODE, highWaterMark: CHUNK_BYTES });
      await pipeline(body, hashing, out);
      await syncFile(temp);
      await rename(temp, target);
    } catch (error) {
      // The file's open may still be under way when the body fails: removed before it is done,
      // the temporary file would be created after its removal and left behind.
      if (out && !out.closed) await once(out, 'close').catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw new ArtifactStoreError(`storing ${key} in ${this.location} failed: ${(error as Error).message}`, error);
    }
    return { key, size: hashing.bytesSeen, sha256: hashing.digest() };
  }

  async putFile(key: string, file: FileHandle, options: { maxBytes?: number } = {}): Promise<StoredObject> {
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    const before = await file.stat({ bigint: true });
    if (before.isFile() && Number(before.size) > maxBytes) throw new SourceTooLargeError(maxBytes);
    const settled = Date.now() - Number(before.mtimeNs / 1_000_000n) > RACY_MS;
    if (before.isFile() && settled && before.size >= KERNEL_COPY_MIN_BYTES) {
      // Any failure of the kernel copy (no /proc, a file this process may not open again, a file
      // that changed meanwhile) leaves the one-pass way below to store it or to say why not.
      const stored = await this.putByCopy(key, file, before).catch(() => null);
      if (stored) return stored;
    }
    try {
      return await this.put(key, fileBody(file, maxBytes));
    } catch (error) {
      throw sourceTooLarge(error) ?? error;
    }
  }

  /**
   * The file copied by the kernel into the temporary file while this thread hashes it, both
   * between two looks at the file: null (nothing stored) when it changed in between.
   */
  private async putByCopy(key: string, file: FileHandle, before: BigIntStats): Promise<StoredObject | null> {
    const target = this.pathOf(key);
    const temp = tempBeside(target);
    try {
      await mkdir(dirname(target), { recursive: true });
      // The descriptor's own file, wherever its name now points (the caller opened it with care).
      // The copy is flushed to disk as soon as it is made, while the hash may still be reading:
      // on 500 MB here SHA-256 alone takes longer than the copy, and the fsync after both used to
      // add its whole time on top (bench/artifacts.ts). copyFile gave the copy the source's mode;
      // the store's own is set before the flush, so the flush covers it too.
      const copyAndFlush = async () => {
        await copyFile(`/proc/self/fd/${file.fd}`, temp, constants.COPYFILE_EXCL);
        await chmod(temp, FILE_MODE);
        await syncFile(temp);
      };
      const [hashed, copied] = await Promise.allSettled([hashFile(file), copyAndFlush()]);
      if (copied.status === 'rejected') throw copied.reason;
      if (hashed.status === 'rejected') throw hashed.reason;
      const after = await file.stat({ bigint: true });
      const written = await stat(temp, { bigint: true });
      const unchanged =
        after.size === before.size &&
        after.mtimeNs === before.mtimeNs &&
        after.ctimeNs === before.ctimeNs &&
        after.ino === before.ino &&
        written.size === before.size &&
        hashed.value.bytes === Number(before.size);
      if (!unchanged) {
        await unlink(temp);
        return null;
      }
      await rename(temp, target);
      return { key, size: hashed.value.bytes, sha256: hashed.value.sha256 };
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  async get(key: string, range?: { start: number; end?: number }): Promise<Readable | null> {
    const path = this.pathOf(key);
    // Opening first turns "absent" into null here rather than an error event later on the stream.
    const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'EISDIR' || error.code === 'ENOTDIR') return null;
      throw new ArtifactStoreError(`reading ${key} from ${this.location} failed: ${error.message}`, error);
    });
    if (!handle) return null;
    return new FileReadStream(handle, range);
  }

  async getToFile(key: string, path: string): Promise<number | null> {
    const source = this.pathOf(key);
    try {
      // copy_file_range: the kernel copies from page cache to page cache, nothing passes through here.
      await copyFile(source, path);
    } catch (error) {
      await rm(path, { force: true }).catch(() => undefined);
      const code = (error as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') && !(await this.stat(key))) return null;
      throw new ArtifactStoreError(`reading ${key} from ${this.location} into ${path} failed: ${(error as Error).message}`, error);
    }
    return (await stat(path)).size;
  }

  /**
   * Removes temporary files of puts older than `olderThanMs` (by modification time: a put under
   * way writes on): what a process that died mid-put left. Returns how many.
   */
  async sweepTemporary(olderThanMs: number, now = Date.now()): Promise<number> {
    const cutoff = now - olderThanMs;
    let removed = 0;
    const visit = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await visit(path);
        else if (entry.isFile() && entry.name.startsWith(TEMP_PREFIX)) {
          const info = await stat(path).catch(() => null);
          if (
            info &&
            info.mtimeMs <= cutoff &&
            (await unlink(path).then(
              () => true,
              () => false,
            ))
          )
            removed += 1;
        }
      }
    };
    await visit(this.location);
    return removed;
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

const tempBeside = (target: string) => join(dirname(target), `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);

/** SHA-256 of the whole file, by position; the next chunk is read while this one is hashed. */
async function hashFile(file: FileHandle): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  const buffers = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)];
  let which = 0;
  let bytes = 0;
  let reading = file.read(buffers[which]!, 0, CHUNK_BYTES, 0);
  for (;;) {
    const { bytesRead, buffer } = await reading;
    if (bytesRead === 0) break;
    bytes += bytesRead;
    which ^= 1;
    reading = file.read(buffers[which]!, 0, CHUNK_BYTES, bytes);
    hash.update(buffer.subarray(0, bytesRead));
  }
  return { sha256: hash.digest('hex'), bytes };
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
