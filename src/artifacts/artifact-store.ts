/**
 * The ArtifactStore port: where a run's outputs live (artifacts, caches, workspace snapshots) as
 * named blobs. Two adapters pass one contract (`artifact-store-contract.ts`): the data folder
 * (embedded default) and S3-compatible object storage, so an API process on another machine
 * serves what a worker stored.
 *
 * Keys are `/`-separated paths checked by `artifactKey` before any adapter sees them. A put is
 * all-or-nothing: until it completes nothing is listed under its key, and a failed put leaves the
 * key as it was.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

export interface StoredObject {
  key: string;
  size: number;
  /** Hex SHA-256 of the bytes, computed while they were written. */
  sha256: string;
}

export interface ObjectInfo {
  key: string;
  size: number;
  modifiedAt: Date;
}

export interface ArtifactStore {
  /** `filesystem` or `s3`; shown on the System page. */
  readonly kind: 'filesystem' | 's3';
  /** Where it stores, for messages (a folder, or `s3://bucket/prefix`); never a secret. */
  readonly location: string;
  /** Streams `body` under `key`, replacing what was there only once every byte is stored. */
  put(key: string, body: Readable, options?: { contentType?: string }): Promise<StoredObject>;
  /**
   * Stores the open regular file `file` (all of it, from its start; its position is not used) under
   * `key`, as `put` would its bytes. A file changed while it is stored is stored as read in one pass.
   * `maxBytes`: a file holding more fails with SourceTooLargeError and nothing is stored. The caller
   * keeps and closes the handle.
   */
  putFile(key: string, file: FileHandle, options?: { contentType?: string; maxBytes?: number }): Promise<StoredObject>;
  /** The object's bytes, or null when there is none. `range` is inclusive, as in HTTP. */
  get(key: string, range?: { start: number; end?: number }): Promise<Readable | null>;
  /**
   * Writes the object into the file at `path` (created, or replaced), returning its size, or null
   * when there is no object (then no file is made). A failed copy removes what it wrote.
   */
  getToFile(key: string, path: string): Promise<number | null>;
  stat(key: string): Promise<ObjectInfo | null>;
  /**
   * Every object under `prefix` (empty, or a key and `/`), each once. The order is the store's own:
   * S3-compatible stores do not all list in key order.
   */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Removes one object; absent is fine. */
  delete(key: string): Promise<void>;
  /** Removes every object under `prefix`; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  close(): Promise<void>;
}

/** A storage failure (store down, timed out, refused): the message says which store and what. */
export class ArtifactStoreError extends Error {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'ArtifactStoreError';
  }
}

/** The source of a `putFile` holds more than its `maxBytes` (perhaps grown while it was read); nothing was stored. */
export class SourceTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the file holds more than ${limit} bytes`);
    this.name = 'SourceTooLargeError';
  }
}

/** The SourceTooLargeError behind a failed put (adapters wrap what their body's stream threw), or null. */
export function sourceTooLarge(error: unknown): SourceTooLargeError | null {
  if (error instanceof SourceTooLargeError) return error;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause instanceof SourceTooLargeError ? cause : null;
}
