/**
 * The LogStore adapter on the database (log_chunks rows), for deployments whose workers and API
 * processes do not share a disk: a worker writes, any API process reads, while the step runs.
 * Stream 0 is the whole-run log (complete lines, as in the file store); stream N is step N.
 */
import type { Kysely } from 'kysely';
import type { LogStore, StepLogWriter } from '../engine/ports.js';
import type { Database } from '../store/schema.js';
import { DbChunkAppender, streamEnd, type ChunkAppenderOptions } from './db-chunk-appender.js';
import { RunLogLines } from './run-log-lines.js';
import { fanOutFlush, stepLogWriter } from './step-writer.js';
import type { LogChunkEvent, OpenStepLog } from './file-log-store.js';

const RUN_STREAM = 0;
const DEFAULT_READ_LIMIT = 8 * 1024 * 1024;

export interface DbLogStoreOptions {
  flushMs?: number;
  maxBatchBytes?: number;
  maxPendingBytes?: number;
  onChunk?: (event: LogChunkEvent) => void;
}

export class DbLogStore implements LogStore {
  private readonly runLogs = new Map<number, { appender: DbChunkAppender; writers: number }>();
  private readonly open = new Set<{ runId: number; appender: DbChunkAppender }>();
  private readonly appenderOptions: Omit<ChunkAppenderOptions, 'onFlush'>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: DbLogStoreOptions = {},
  ) {
    this.appenderOptions = {
      flushMs: options.flushMs ?? 100,
      maxBatchBytes: options.maxBatchBytes ?? 64 * 1024,
      maxPendingBytes: options.maxPendingBytes ?? 64 * 1024 * 1024,
    };
  }

  openStep(e: OpenStepLog): StepLogWriter {
    if (!Number.isSafeInteger(e.stepId) || e.stepId <= 0) throw new RangeError(`invalid step id: ${e.stepId}`);
    const storeObserver = this.options.onChunk && ((offset: number, text: string) => this.options.onChunk!({ runId: e.runId, stepId: e.stepId, offset, text }));
    const appender = new DbChunkAppender(this.db, e.runId, e.stepId, { ...this.appenderOptions, ...fanOutFlush([e.onChunk, storeObserver]) });
    const entry = { runId: e.runId, appender };
    this.open.add(entry);
    const stream = {
      append: (chunk: Buffer) => appender.append(chunk),
      close: () => {
        this.open.delete(entry);
        return appender.close();
      },
    };
    return stepLogWriter(stream, new RunLogLines(this.acquireRunLog(e.runId), e.stepName, e.parallel, e.reopened), () => this.releaseRunLog(e.runId));
  }

  async read(e: { runId: number; stepId: number | null; offset: number; limit?: number }): Promise<{ data: Buffer; nextOffset: number }> {
    await this.settle(e.runId);
    const offset = Math.max(0, Math.floor(e.offset));
    const limit = Math.max(0, Math.floor(e.limit ?? DEFAULT_READ_LIMIT));
    const rows = await this.db
      .selectFrom('log_chunks')
      .select(['offset', 'data'])
      .where('run_id', '=', e.runId)
      .where('stream', '=', e.stepId ?? RUN_STREAM)
      .where((eb) => eb(eb('offset', '+', eb.ref('size')), '>', offset))
      .where('offset', '<', offset + limit)
      .orderBy('offset')
      .execute();
    const parts: Buffer[] = [];
    let position = offset;
    for (const row of rows) {
      const start = Number(row.offset);
      if (start > position) break; // a gap: a chunk still being written by another process
      const data = Buffer.from(row.data);
      parts.push(data.subarray(position - start));
      position = start + data.length;
    }
    const data = Buffer.concat(parts).subarray(0, limit);
    return { data, nextOffset: offset + data.length };
  }

  async size(e: { runId: number; stepId: number | null }): Promise<number> {
    await this.settle(e.runId);
    return streamEnd(this.db, e.runId, e.stepId ?? RUN_STREAM);
  }

  async removeRun(runId: number): Promise<void> {
    await this.db.deleteFrom('log_chunks').where('run_id', '=', runId).execute();
  }

  /** Bytes this process wrote for the run are stored before it answers a read. */
  private async settle(runId: number): Promise<void> {
    const waits = [...this.open].filter((o) => o.runId === runId).map((o) => o.appender.settled());
    const runLog = this.runLogs.get(runId);
    if (runLog) waits.push(runLog.appender.settled());
    await Promise.all(waits);
  }

  private acquireRunLog(runId: number): DbChunkAppender {
    let runLog = this.runLogs.get(runId);
    if (!runLog) {
      runLog = { appender: new DbChunkAppender(this.db, runId, RUN_STREAM, this.appenderOptions), writers: 0 };
      this.runLogs.set(runId, runLog);
    }
    runLog.writers += 1;
    return runLog.appender;
  }

  private async releaseRunLog(runId: number): Promise<void> {
    const runLog = this.runLogs.get(runId);
    if (!runLog) return;
    runLog.writers -= 1;
    if (runLog.writers > 0) return;
    this.runLogs.delete(runId);
    await runLog.appender.close();
  }
}
