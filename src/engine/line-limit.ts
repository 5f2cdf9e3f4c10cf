/**
 * Cuts lines longer than `maxLineBytes`: the first part is kept, the rest of the line is dropped
 * and counted, and ` … [line truncated, N bytes]` (N = bytes dropped) is added before the line's
 * newline. Nothing is buffered — the limiter only counts — so memory stays flat for a 50 MB line
 * or a gigabyte of output.
 */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

const NEWLINE = 0x0a;

export class LineLimiter {
  private lineBytes = 0;
  private dropped = 0;

  constructor(private readonly maxLineBytes: number = DEFAULT_MAX_LINE_BYTES) {
    if (!(maxLineBytes > 0)) throw new RangeError('maxLineBytes must be positive');
  }

  /** Returns the bytes to emit for this chunk (subarrays of it where possible). */
  write(chunk: Buffer): Buffer {
    // Fast path (the usual case): no line of this chunk can reach the limit, so the chunk goes out
    // as it is. Splitting every chunk into per-line buffers was the log path's main cost.
    if (this.dropped === 0) {
      const first = chunk.indexOf(NEWLINE);
      if (first === -1) {
        if (this.lineBytes + chunk.length <= this.maxLineBytes) {
          this.lineBytes += chunk.length;
          return chunk;
        }
      } else {
        const last = chunk.lastIndexOf(NEWLINE);
        const tail = chunk.length - last - 1;
        // The span between the first and last newline bounds every middle line.
        if (this.lineBytes + first <= this.maxLineBytes && last - first - 1 <= this.maxLineBytes && tail <= this.maxLineBytes) {
          this.lineBytes = tail;
          return chunk;
        }
      }
    }
    const parts: Buffer[] = [];
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline;
      this.take(chunk, start, end, parts);
      if (newline === -1) break;
      if (this.dropped > 0) parts.push(marker(this.dropped));
      parts.push(chunk.subarray(newline, newline + 1));
      this.lineBytes = 0;
      this.dropped = 0;
      start = newline + 1;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** The stream ended inside a cut line: still say how much was dropped. */
  flush(): Buffer {
    const out = this.dropped > 0 ? marker(this.dropped) : Buffer.alloc(0);
    this.lineBytes = 0;
    this.dropped = 0;
    return out;
  }

  private take(chunk: Buffer, start: number, end: number, parts: Buffer[]): void {
    const room = this.maxLineBytes - this.lineBytes;
    const length = end - start;
    if (length <= room) {
      if (length > 0) parts.push(chunk.subarray(start, end));
      this.lineBytes += length;
      return;
    }
    const cut = utf8Boundary(chunk, start, start + Math.max(0, room));
    if (cut > start) parts.push(chunk.subarray(start, cut));
    this.lineBytes = this.maxLineBytes;
    this.dropped += end - cut;
  }
}

/** Moves a cut point back so it does not split a UTF-8 character (at most 3 bytes). */
function utf8Boundary(chunk: Buffer, start: number, cut: number): number {
  let at = cut;
  while (at > start && at > cut - 4 && ((chunk[at] ?? 0) & 0xc0) === 0x80) at -= 1;
  return at;
}

function marker(dropped: number): Buffer {
  return Buffer.from(` … [line truncated, ${dropped} bytes]`);
}
