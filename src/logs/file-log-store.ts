/**
 * The LogStore adapter on files:
 *   <root>/<runId>/<stepId>.log   the raw (already masked) bytes of one step, all attempts;
 *   <root>/<runId>/run.log        the whole run, COMPLETE lines only.
 *
 * run.log stays append-only and readable by byte offset even while parallel steps write: a step's
 * partial line is buffered until its newline (or close), a step's first output is announced by a
 * `==> <step name>` header, and in a parallel stage every line is prefixed `[step name] `.
 * A partial line longer than MAX_PARTIAL_LINE_BYTES is written out early with a newline, so a
 * step that never prints one cannot grow memory (the engine's line limiter normally cuts first).
 * Files (and the run's folder) are made by the first bytes written to them: a step that prints
 * nothing has no file, which reads as empty.
 */
import { open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogStore, StepLogWriter } from '../engine/ports.js';
import { BatchedAppender } from './batched-appender.js';
import { RunLogLines } from './run-log-lines.js';
import { fanOutFlush, stepLogWriter } from './step-writer.js';

/** A flushed piece of one step's log, for publishing on the event bus. */
export interface LogChunkEvent {
  runId: number;
  stepId: number;
  /** Byte offset of `text` in the step's log (what `?step=ID&offset=N` reads from). */
  offset: number;
  text: string;
}

export interface FileLogStoreOptions {
  root: string;
  flushMs?: number;
  maxBatchBytes?: number;
  /** Observes every flushed chunk of every step (e.g. to publish it live). */
  onChunk?: (event: LogChunkEvent) => void;
}

export interface OpenStepLog {
  runId: number;
  stepId: number;
  stepName: string;
  parallel: boolean;
  /** The step ended and its log is appended to (see LogStore.openStep). */
  reopened?: boolean;
  /** Observes this step's flushed chunks, in addition to the store-wide observer. */
  onChunk?: (offset: number, text: string) => void;
}

const DEFAULT_READ_LIMIT = 8 * 1024 * 1024;

interface RunLogFile {
  appender: BatchedAppender;
  writers: number;
}

export class FileLogStore implements LogStore {
  private readonly runLogs = new Map<number, RunLogFile>();
  private readonly stepAppenders = new Set<{ runId: number; appender: BatchedAppender }>();
  private readonly flushMs: number;
  private readonly maxBatchBytes: number;

  constructor(private readonly options: FileLogStoreOptions) {
    this.flushMs = options.flushMs ?? 50;
    this.maxBatchBytes = options.maxBatchBytes ?? 64 * 1024;
  }

  openStep(e: OpenStepLog): StepLogWriter {
    // The folder and files are made by the first bytes written (BatchedAppender): a step that
    // prints nothing costs no mkdir, open or close on the path between two steps.
    const dir = this.runDir(e.runId);
    const runLog = this.acquireRunLog(e.runId, dir);
    const appender = new BatchedAppender(join(dir, `${stepFileId(e.stepId)}.log`), {
      flushMs: this.flushMs,
      maxBatchBytes: this.maxBatchBytes,
      folder: dir,
      ...fanOutFlush([e.onChunk, this.options.onChunk && this.storeObserver(e.runId, e.stepId)]),
    });
    const entry = { runId: e.runId, appender };
    this.stepAppenders.add(entry);
    const stream = {
      append: (chunk: Buffer) => appender.append(chunk),
      close: () => {
        this.stepAppenders.delete(entry);
        appender.close();
      },
    };
    return stepLogWriter(stream, new RunLogLines(runLog.appender, e.stepName, e.parallel, e.reopened), () => this.releaseRunLog(e.runId));
  }

  async read(e: { runId: number; stepId: number | null; offset: number; limit?: number }): Promise<{ data: Buffer; nextOffset: number }> {
    this.flushRun(e.runId);
    const offset = Math.max(0, Math.floor(e.offset));
    const limit = Math.max(0, Math.floor(e.limit ?? DEFAULT_READ_LIMIT));
    let handle;
    try {
      handle = await open(this.filePath(e.runId, e.stepId), 'r');
    } catch (thrown) {
      if ((thrown as NodeJS.ErrnoException).code === 'ENOENT') return { data: Buffer.alloc(0), nextOffset: offset };
      throw thrown;
    }
    try {
      const size = (await handle.stat()).size;
      const length = Math.max(0, Math.min(limit, size - offset));
      const data = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(data, done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return { data: data.subarray(0, done), nextOffset: offset + done };
    } finally {
      await handle.close();
    }
  }

  async size(e: { runId: number; stepId: number | null }): Promise<number> {
    this.flushRun(e.runId);
    try {
      return (await stat(this.filePath(e.runId, e.stepId))).size;
    } catch (thrown) {
      if ((thrown as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw thrown;
    }
  }

  async removeRun(runId: number): Promise<void> {
    await rm(this.runDir(runId), { recursive: true, force: true });
  }

  private storeObserver(runId: number, stepId: number) {
    const observe = this.options.onChunk!;
    return (offset: number, text: string) => observe({ runId, stepId, offset, text });
  }

  /** Makes pending bytes of a live run visible to readers (read-your-writes for followers). */
  private flushRun(runId: number): void {
    for (const entry of this.stepAppenders) if (entry.runId === runId) entry.appender.flush(false);
    this.runLogs.get(runId)?.appender.flush(false);
  }

  private acquireRunLog(runId: number, dir: string): RunLogFile {
    let runLog = this.runLogs.get(runId);
    if (!runLog) {
      runLog = {
        appender: new BatchedAppender(join(dir, 'run.log'), { flushMs: this.flushMs, maxBatchBytes: this.maxBatchBytes, folder: dir }),
        writers: 0,
      };
      this.runLogs.set(runId, runLog);
    }
    runLog.writers += 1;
    return runLog;
  }

  private releaseRunLog(runId: number): void {
    const runLog = this.runLogs.get(runId);
    if (!runLog) return;
    runLog.writers -= 1;
    if (runLog.writers > 0) return;
    this.runLogs.delete(runId);
    runLog.appender.close();
  }

  private runDir(runId: number): string {
    return join(this.options.root, stepFileId(runId));
  }

  private filePath(runId: number, stepId: number | null): string {
    return join(this.runDir(runId), stepId === null ? 'run.log' : `${stepFileId(stepId)}.log`);
  }
}

/** Ids become file names: only non-negative integers, so no id can name another path. */
function stepFileId(id: number): string {
  if (!Number.isSafeInteger(id) || id < 0) throw new RangeError(`invalid log id: ${id}`);
  return String(id);
}
