/**
 * The S3 adapter, for AWS S3 and S3-compatible stores (MinIO, Ceph, Garage, …), through the AWS
 * SDK. Objects live under `s3://bucket/prefix/`. Uploads go through the SDK's multipart `Upload`,
 * which S3 publishes only when the last part is in, so a failed or cut upload never shows up in a
 * listing. Every request is bounded in time: a store that is down or hangs fails the operation
 * with a message naming the store, instead of holding a run.
 */
import {
  DeleteObjectsCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { artifactKey, artifactPrefix } from './artifact-key.js';
import { ArtifactStoreError, SourceTooLargeError, sourceTooLarge, type ArtifactStore, type ObjectInfo, type StoredObject } from './artifact-store.js';
import { HashingStream } from './hashing-stream.js';
import { fileBody, streamToFile } from './file-body.js';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing `/` (may be empty). */
  prefix: string;
  /** For S3-compatible stores; AWS's own endpoint when absent. */
  endpoint?: string;
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which most self-hosted stores need. */
  forcePathStyle?: boolean;
  /** Static keys; the SDK's default chain (environment, profile, instance role) when absent. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Bound on connecting, and on each request's silence, in milliseconds. */
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export class S3ArtifactStore implements ArtifactStore {
  readonly kind = 's3' as const;
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly root: string;

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.root = options.prefix === '' ? '' : `${options.prefix}/`;
    this.location = `s3://${options.bucket}/${options.prefix}`;
    const config: S3ClientConfig = {
      region: options.region ?? 'us-east-1',
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      credentials: options.credentials,
      // Checksums only where S3 demands them: the streamed-trailer checksums the SDK adds by
      // default are not understood by many S3-compatible stores.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      // The SDK builds its Node HTTP handler from these settings.
      requestHandler: {
        connectionTimeout: options.connectTimeoutMs ?? 5_000,
        requestTimeout: options.requestTimeoutMs ?? 30_000,
        // Without it the SDK only logs a warning when the timeout passes, and waits on.
        throwOnRequestTimeout: true,
      },
    };
    this.client = new S3Client(config);
  }

  private objectKey(key: string): string {
    return this.root + artifactKey(key);
  }

  private failure(action: string, key: string, error: unknown): ArtifactStoreError {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return new ArtifactStoreError(`${action} ${key} in ${this.location} failed: ${reason}`, error);
  }

  async put(key: string, body: Readable, options?: { contentType?: string }): Promise<StoredObject> {
    const objectKey = this.objectKey(key);
    const hashing = new HashingStream();
    body.on('error', (error) => hashing.destroy(error));
    body.pipe(hashing);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: objectKey, Body: hashing, ContentType: options?.contentType ?? 'application/octet-stream' },
      queueSize: 4,
      partSize: 8 * 1024 * 1024,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      body.unpipe(hashing);
      body.destroy();
      throw this.failure('storing', key, error);
    }
    return { key, size: hashing.bytesSeen, sha256: hashing.digest() };
  }

  async putFile(key: string, file: FileHandle, options: { contentType?: string; maxBytes?: number } = {}): Promise<StoredObject> {
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    if ((await file.stat()).size > maxBytes) throw new SourceTooLargeError(maxBytes);
    try {
      return await this.put(key, fileBody(file, maxBytes), options);
    } catch (error) {
      throw sourceTooLarge(error) ?? error;
    }
  }

  async getToFile(key: string, path: string): Promise<number | null> {
    const body = await this.get(key);
    if (!body) return null;
    try {
      return await streamToFile(body, path);
    } catch (error) {
      throw this.failure('reading', key, error);
    }
  }

  async get(key: string, range?: { start: number; end?: number }): Promise<Readable | null> {
    const objectKey = this.objectKey(key);
    try {
      const answer = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined,
        }),
      );
      return answer.Body as Readable;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw this.failure('reading', key, error);
    }
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    const objectKey = this.objectKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return { key, size: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw this.failure('looking up', key, error);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    artifactPrefix(prefix);
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.root + prefix, ContinuationToken: token }));
      } catch (error) {
        throw this.failure('listing', prefix || '(everything)', error);
      }
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue;
        yield { key: object.Key.slice(this.root.length), size: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(key: string): Promise<void> {
    const objectKey = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }));
    } catch (error) {
      if (!isNotFound(error)) throw this.failure('deleting', key, error);
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    let removed = 0;
    let batch: string[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      try {
        await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((k) => ({ Key: this.root + k })), Quiet: true } }));
      } catch (error) {
        throw this.failure('deleting', prefix || '(everything)', error);
      }
      removed += batch.length;
      batch = [];
    };
    for await (const object of this.list(prefix)) {
      batch.push(object.key);
      if (batch.length === 1000) await flush();
    }
    await flush();
    return removed;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
