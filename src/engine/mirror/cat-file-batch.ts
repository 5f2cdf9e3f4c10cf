/**
 * `git cat-file --batch` answers, parsed: read all at once from a one-shot process (`parseBatch`),
 * or streamed from a long-lived one that is asked again and again (`CatFileBatch`).
 *
 * A long-lived one sees what fetches add after it started: git looks for a ref's file (or in
 * packed-refs, checked for changes) on every lookup, and rescans the object folder when an
 * object is not where it looked (repository-mirrors.test.ts checks both).
 */
import type { LongLivedCommand } from '../launch/long-lived-command.js';

export interface BatchAnswer {
  sha: string;
  type: string;
  data: Buffer;
}

/** `git cat-file --batch` output: `<sha> <type> <size>\n<data>\n` per object, `<rev> missing\n` otherwise. */
export function parseBatch(raw: Buffer): Array<BatchAnswer | null> {
  const answers: Array<BatchAnswer | null> = [];
  let at = 0;
  for (;;) {
    const next = parseOne(raw, at);
    if (!next) return answers;
    answers.push(next.answer);
    at = next.at;
  }
}

/** One answer starting at `at`, or null when it has not fully arrived. */
function parseOne(raw: Buffer, at: number): { answer: BatchAnswer | null; at: number } | null {
  const end = raw.indexOf(0x0a, at);
  if (end < 0) return null;
  const header = raw.subarray(at, end).toString('utf8');
  const found = /^([0-9a-f]{40,64}) (\S+) (\d+)$/.exec(header);
  if (!found) return { answer: null, at: end + 1 };
  const size = Number(found[3]);
  if (raw.length < end + 1 + size + 1) return null;
  return { answer: { sha: found[1]!, type: found[2]!, data: raw.subarray(end + 1, end + 1 + size) }, at: end + 1 + size + 1 };
}

interface Pending {
  left: number;
  answers: Array<BatchAnswer | null>;
  resolve: (answers: Array<BatchAnswer | null>) => void;
  reject: (error: Error) => void;
}

/**
 * A long-lived `cat-file --batch`: requests are written as they come (answers come back in the
 * same order, so several callers may ask at once) and each caller gets the answers to its lines.
 * Once the process has ended or failed, every call rejects and `alive` is false: the owner starts
 * another.
 */
export class CatFileBatch {
  private readonly pending: Pending[] = [];
  private buffered: Buffer = Buffer.alloc(0);
  private ended: Error | null = null;

  constructor(private readonly command: LongLivedCommand) {
    command.output.on('data', (chunk: Buffer) => this.receive(chunk));
    command.output.on('error', (error: Error) => this.fail(error));
    command.output.once('end', () => this.fail(new Error('git cat-file ended')));
    void command.exited.then(() => this.fail(new Error('git cat-file ended')));
  }

  get alive(): boolean {
    return this.ended === null;
  }

  /** The answers to these request lines (each without its line break), in order. */
  ask(lines: readonly string[]): Promise<Array<BatchAnswer | null>> {
    if (this.ended) return Promise.reject(this.ended);
    if (lines.some((line) => /[\n\r]/.test(line))) return Promise.reject(new Error('a request with a line break'));
    if (lines.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.pending.push({ left: lines.length, answers: [], resolve, reject });
      this.command.input.write(lines.map((line) => `${line}\n`).join(''));
    });
  }

  /** Ends the process (its input closes); calls still waiting reject. */
  close(): void {
    this.fail(new Error('git cat-file closed'));
    this.command.end();
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    let at = 0;
    for (;;) {
      const head = this.pending[0];
      if (!head) break;
      const next = parseOne(this.buffered, at);
      if (!next) break;
      // The answer's data is copied out: the buffer it points into is reused for what comes next.
      head.answers.push(next.answer && { ...next.answer, data: Buffer.from(next.answer.data) });
      at = next.at;
      if (--head.left === 0) {
        this.pending.shift();
        head.resolve(head.answers);
      }
    }
    this.buffered = this.buffered.subarray(at);
    // Output nobody asked for: the process is not doing what it should.
    if (this.pending.length === 0 && this.buffered.length > 0) this.fail(new Error('git cat-file answered more than it was asked'));
  }

  private fail(error: Error): void {
    if (this.ended) return;
    this.ended = error;
    for (const waiting of this.pending.splice(0)) waiting.reject(error);
    this.command.end();
  }
}
