/**
 * Appends one log stream to the database as chunk rows, in batches (every `flushMs` or
 * `maxBatchBytes`), inserts strictly in order. A batch ends on a UTF-8 boundary so it can be
 * published as text. Like a file opened for appending, it continues where the stream ends (a step
 * reopened for a retry, the run log of the next step): the end is looked up before the first insert.
 * Memory is bounded: if the database falls more than `maxPendingBytes` behind,
 * further bytes are dropped and counted, and a marker says so once it catches up — a log must
 * never take the worker down.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { PendingBatch } from './pending-batch.js';
import { coerceError } from '../domain/errors.js';
import { retryWhileUnavailable } from '../store/unavailable.js';

export interface ChunkAppenderOptions {
  flushMs: number;
  maxBatchBytes: number;
  maxPendingBytes: number;
  onFlush?: (offset: number, data: Buffer) => void;
}

export class DbChunkAppender {
  private readonly pending: PendingBatch;
  private inflightBytes = 0;
  private droppedBytes = 0;
  /** Bytes handed to the chain (offsets relative to where the stream ended when this opened). */
  private written = 0;
  private base: number | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private closed = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly runId: number,
    private readonly stream: number,
    private readonly options: ChunkAppenderOptions,
  ) {
    this.pending = new PendingBatch(options, () => this.flush(false));
  }

  append(chunk: Buffer): void {
    if (this.closed || this.failure || chunk.length === 0) return;
    if (this.pending.bytes + this.inflightBytes + chunk.length > this.options.maxPendingBytes) {
      this.droppedBytes += chunk.length;
      return;
    }
    this.addDroppedMarker();
    this.pending.add(chunk);
  }

  flush(final: boolean): void {
    if (this.failure) return;
    // A copy: the insert runs later, and the caller may reuse the chunk it appended.
    const batch = Buffer.from(this.pending.take(final));
    if (batch.length === 0) return;
    const relative = this.written;
    this.written += batch.length;
    this.inflightBytes += batch.length;
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        this.base ??= await streamEnd(this.db, this.runId, this.stream);
        const offset = this.base + relative;
        // A short database outage must not cost the log (or, through a failed close, the run).
        await retryWhileUnavailable(
          () => this.db.insertInto('log_chunks').values({ run_id: this.runId, stream: this.stream, offset, size: batch.length, data: batch }).execute(),
          { maxMs: 120_000 },
        );
        // Announced only once stored: a reader told about these bytes can always read them.
        this.options.onFlush?.(offset, batch);
      } catch (thrown) {
        this.failure = coerceError(thrown);
      } finally {
        this.inflightBytes -= batch.length;
      }
    });
  }

  /** Waits for everything to be stored; throws the first failure so log loss is never silent. */
  async close(): Promise<void> {
    if (this.closed) return this.chain;
    this.addDroppedMarker();
    this.flush(true);
    this.closed = true;
    await this.chain;
    if (this.failure) throw this.failure;
  }

  /** Resolves when everything appended so far is stored (read-your-writes for followers). */
  settled(): Promise<void> {
    this.flush(false);
    return this.chain;
  }

  /** Says, once, how many bytes were dropped since the last marker. */
  private addDroppedMarker(): void {
    if (this.droppedBytes === 0) return;
    this.pending.add(Buffer.from(`\n[log: ${this.droppedBytes} bytes dropped, the database could not keep up]\n`));
    this.droppedBytes = 0;
  }
}

/** Where one log stream ends: the byte offset just past its last stored chunk (0 when empty). */
export async function streamEnd(db: Kysely<Database>, runId: number, stream: number): Promise<number> {
  const row = await db
    .selectFrom('log_chunks')
    .select((eb) => eb.fn.max(eb('offset', '+', eb.ref('size'))).as('end'))
    .where('run_id', '=', runId)
    .where('stream', '=', stream)
    .executeTakeFirst();
  return Number(row?.end ?? 0);
}
