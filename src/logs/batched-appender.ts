/**
 * Appends bytes to one file in batches: chunks are coalesced in memory and written together
 * every `flushMs` or once `maxBatchBytes` are pending, and on close — never a syscall per tiny
 * chunk. Writes are synchronous on purpose: a 64 KiB write into the page cache takes
 * microseconds, and it bounds memory to one batch without a backpressure channel back to the
 * step's process (the StepLogWriter port's write() returns nothing to wait on).
 *
 * Each flushed batch ends on a UTF-8 character boundary (an incomplete trailing character waits
 * for the next flush), so an observer can publish every batch as text with its byte offset.
 */
import { closeSync, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { coerceError } from '../domain/errors.js';
import { PendingBatch } from './pending-batch.js';

export interface BatchedAppenderOptions {
  flushMs: number;
  maxBatchBytes: number;
  /** Called after each batch is written, with the byte offset where it starts in the file. */
  onFlush?: (offset: number, data: Buffer) => void;
  /** The file's folder, made (0700) when the file is first opened. */
  folder?: string;
}

export class BatchedAppender {
  /** Opened by the first batch written: a step that prints nothing makes no file and costs no open. */
  private fd: number | null = null;
  private readonly pending: PendingBatch;
  private written = 0;
  private failure: Error | undefined;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly options: BatchedAppenderOptions,
  ) {
    this.pending = new PendingBatch(options, () => this.flush(false));
  }

  private open(): number {
    if (this.fd === null) {
      if (this.options.folder !== undefined) mkdirSync(this.options.folder, { recursive: true, mode: 0o700 });
      const fd = openSync(this.path, 'a', 0o600);
      // Appending to what is there (a step's log reopened after its end): offsets go on from its size.
      this.written = fstatSync(fd).size;
      this.fd = fd;
    }
    return this.fd;
  }

  append(chunk: Buffer): void {
    if (this.closed || this.failure || chunk.length === 0) return;
    this.pending.add(chunk);
  }

  /** Writes everything pending; `final` also writes an incomplete trailing UTF-8 character. */
  flush(final: boolean): void {
    if (this.failure) return;
    const batch = this.pending.take(final);
    // Only part of a character is pending: the next append or close() writes it.
    if (batch.length === 0) return;
    try {
      const fd = this.open();
      let done = 0;
      while (done < batch.length) done += writeSync(fd, batch, done, batch.length - done);
    } catch (thrown) {
      this.failure = coerceError(thrown);
      this.pending.clear();
      return;
    }
    const offset = this.written;
    this.written += batch.length;
    this.options.onFlush?.(offset, batch);
  }

  /** Flushes and closes; throws the first write failure, if any, so log loss is never silent. */
  close(): void {
    if (this.closed) return;
    this.flush(true);
    this.closed = true;
    if (this.fd !== null) closeSync(this.fd);
    if (this.failure) throw this.failure;
  }
}
