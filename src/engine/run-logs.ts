/**
 * One step's output path: executor bytes → secret masker → line limiter → the LogStore's writer.
 * Masking comes first so a secret is masked even where a long line is cut in the middle of it.
 * Executors only call `output`; the engine uses `note` for its own lines (attempt separators,
 * timeout and cancel notices), which always start on a fresh line.
 */
import type { LogStore, StepLogWriter } from './ports.js';
import { SecretMasker } from './masking.js';
import { LineLimiter } from './line-limit.js';

export interface StepOutput {
  output(chunk: Buffer | string): void;
  /** Masks one more secret value in everything written from now on. */
  addSecret(value: string): void;
  /** An engine message on a line of its own (masked like everything else). */
  note(line: string): void;
  /** Flushes held-back bytes and closes the store's writer. */
  close(): Promise<void>;
}

export function openStepOutput(e: {
  logs: LogStore;
  runId: number;
  stepId: number;
  stepName: string;
  parallel: boolean;
  /** The step ended and its log is appended to (LogStore.openStep). */
  reopened?: boolean;
  secrets: readonly string[];
  maxLineBytes: number;
}): StepOutput {
  const writer: StepLogWriter = e.logs.openStep({
    runId: e.runId,
    stepId: e.stepId,
    stepName: e.stepName,
    parallel: e.parallel,
    ...(e.reopened && { reopened: true }),
  });
  const masker = new SecretMasker(e.secrets);
  const limiter = new LineLimiter(e.maxLineBytes);
  let atLineStart = true;
  let closed = false;

  const emit = (bytes: Buffer) => {
    if (bytes.length === 0) return;
    writer.write(bytes);
    atLineStart = bytes[bytes.length - 1] === 0x0a;
  };
  const output = (chunk: Buffer | string) => {
    if (closed) return;
    emit(limiter.write(masker.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk)));
  };
  const drain = () => {
    emit(limiter.write(masker.flush()));
    emit(limiter.flush());
  };

  return {
    output,
    addSecret: (value: string) => masker.add(value),
    note(line: string) {
      if (closed) return;
      drain();
      if (!atLineStart) emit(Buffer.from('\n'));
      output(`${line}\n`);
      drain();
    },
    async close() {
      if (closed) return;
      drain();
      closed = true;
      await writer.close();
    },
  };
}
