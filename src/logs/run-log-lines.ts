/**
 * Turns one step's byte stream into the whole-run log: a `==> name` header when the step starts,
 * then complete lines only (a partial line waits for its newline, or the step's end), prefixed
 * `[name] ` for steps of a parallel stage. So the run log is append-only even with steps writing
 * at the same time, and `?offset=N` can follow it.
 */
const MAX_PARTIAL_LINE_BYTES = 256 * 1024;
const NEWLINE = Buffer.from('\n');

/** Turns one step's byte stream into complete (optionally prefixed) lines of the run log. */
export class RunLogLines {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private started = false;
  private readonly prefix: Buffer;

  constructor(
    private readonly runLog: { append(chunk: Buffer): void },
    private readonly stepName: string,
    private readonly parallel: boolean,
    /** The step ended and its log is appended to: no header (it would head other steps' lines too), every line prefixed. */
    reopened = false,
  ) {
    if (reopened) {
      this.started = true;
      this.parallel = true;
    }
    this.prefix = Buffer.from(this.parallel ? `[${oneLine(stepName)}] ` : '');
  }

  write(chunk: Buffer): void {
    if (!this.started) {
      this.started = true;
      this.runLog.append(Buffer.from(`==> ${oneLine(this.stepName)}\n`));
    }
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) break;
      if (!this.parallel && this.partialBytes === 0) {
        // Unprefixed: every complete line of this chunk goes out in one piece.
        const last = chunk.lastIndexOf(0x0a);
        this.runLog.append(chunk.subarray(start, last + 1));
        start = last + 1;
        break;
      }
      this.emitLine(chunk.subarray(start, newline));
      start = newline + 1;
    }
    if (start < chunk.length) this.hold(chunk.subarray(start));
  }

  /** The step ended: a last line without newline still belongs in the run log. */
  end(): void {
    if (this.partialBytes > 0) this.emitLine(Buffer.alloc(0));
  }

  private hold(rest: Buffer): void {
    this.partial.push(Buffer.from(rest));
    this.partialBytes += rest.length;
    if (this.partialBytes >= MAX_PARTIAL_LINE_BYTES) this.emitLine(Buffer.alloc(0));
  }

  private emitLine(tail: Buffer): void {
    const parts = [this.prefix, ...this.partial, tail, NEWLINE];
    this.partial = [];
    this.partialBytes = 0;
    this.runLog.append(Buffer.concat(parts));
  }
}

function oneLine(name: string): string {
  return name.replace(/[\r\n]+/g, ' ');
}
