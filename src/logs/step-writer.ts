/**
 * What both LogStore adapters do for one step: every chunk goes to the step's own stream and to
 * the run log's line assembler; close() ends the run-log line, closes the step stream, then lets
 * the store release the run log — once, however often it is called.
 */
import type { StepLogWriter } from '../engine/ports.js';
import type { RunLogLines } from './run-log-lines.js';

export interface StepStream {
  append(chunk: Buffer): void;
  close(): void | Promise<void>;
}

export function stepLogWriter(stream: StepStream, lines: RunLogLines, release: () => void | Promise<void>): StepLogWriter {
  let closed: Promise<void> | undefined;
  return {
    write: (chunk: Buffer) => {
      if (closed || chunk.length === 0) return;
      stream.append(chunk);
      lines.write(chunk);
    },
    close: () =>
      (closed ??= (async () => {
        lines.end();
        try {
          await stream.close();
        } finally {
          await release();
        }
      })()),
  };
}

/** One onFlush callback that hands each flushed batch, as text, to every observer (none: undefined). */
export function fanOutFlush(observers: Array<((offset: number, text: string) => void) | undefined | false>): {
  onFlush?: (offset: number, data: Buffer) => void;
} {
  const present = observers.filter((o): o is (offset: number, text: string) => void => typeof o === 'function');
  if (present.length === 0) return {};
  return {
    onFlush: (offset: number, data: Buffer) => {
      const text = data.toString('utf8');
      for (const observe of present) observe(offset, text);
    },
  };
}
