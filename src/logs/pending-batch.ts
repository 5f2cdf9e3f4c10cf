/**
 * The bytes a log appender holds before writing them: chunks are coalesced and handed to `flush`
 * every `flushMs` or as soon as `maxBatchBytes` are pending. A batch taken ends on a UTF-8
 * character boundary (an incomplete trailing character waits for the next batch), so an observer
 * can publish every batch as text with its byte offset.
 */
export interface BatchLimits {
  flushMs: number;
  maxBatchBytes: number;
}

export class PendingBatch {
  private chunks: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;
  bytes = 0;

  constructor(
    private readonly limits: BatchLimits,
    private readonly flush: () => void,
  ) {}

  add(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes >= this.limits.maxBatchBytes) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.limits.flushMs);
      this.timer.unref();
    }
  }

  /** Takes what is pending (all of it when `final`, else up to the last complete character). */
  take(final: boolean): Buffer {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.bytes === 0) return Buffer.alloc(0);
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bytes);
    const cut = final ? data.length : completeUtf8Length(data);
    const rest = data.subarray(cut);
    this.chunks = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.bytes = rest.length;
    return data.subarray(0, cut);
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.chunks = [];
    this.bytes = 0;
  }
}

/** Length of the prefix that does not end inside a UTF-8 multi-byte character. */
export function completeUtf8Length(data: Buffer): number {
  const end = data.length;
  for (let back = 1; back <= Math.min(4, end); back++) {
    const byte = data[end - back]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? end - back : end;
  }
  return end; // not UTF-8 (binary): nothing to wait for
}
