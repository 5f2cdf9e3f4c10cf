/**
 * `ansflow serve --processes N`: N processes on the same ports through Node's cluster module (the
 * primary holds the listening sockets and hands connections to the processes in turn), for more
 * than one core's worth of API requests (docs/benchmarks.md, Management API: one process tops out
 * near 3,000 list requests a second, most of it in SQLite and Kysely on its one thread).
 *
 * Process 1 runs the role asked for (with `all`: API, gateway, metrics and the embedded worker);
 * processes 2..N serve the API (or, with `--role gateway`, the gateway) and nothing else. Cancels,
 * live events and queued runs must cross processes, so more than one process needs Redis
 * (ANSFLOW_REDIS_URL), as any scale-out does (docs/deploy.md). Process 1 starts alone first (it
 * migrates the database and creates the admin), then the rest. The primary only supervises: a
 * process that dies stops them all (a service manager restarts the whole), SIGTERM/SIGINT are
 * passed on, and it waits for every process to finish shutting down.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Role } from '../runtime/servers.js';

export const PROCESS_INDEX_ENV = 'ANSFLOW_PROCESS_INDEX';

/** The role process `index` (1-based) of N runs when `role` was asked for. */
export function roleOfProcess(role: Role, index: number): Role {
  if (index <= 1) return role;
  return role === 'gateway' ? 'gateway' : 'api';
}

/** This process's index under `--processes` (1 when not under it). */
export function processIndex(): number {
  return cluster.isWorker ? Number(process.env[PROCESS_INDEX_ENV] ?? 1) : 1;
}

/** Runs the primary: forks N processes of this same command and supervises them; resolves with the exit code. */
export function runPrimary(count: number, log: (message: string) => void): Promise<number> {
  return new Promise<number>((resolve) => {
    const workers = new Set<Worker>();
    let stopping = false;
    let code = 0;
    const fork = (index: number) =>
      new Promise<void>((ready, failed) => {
        const worker = cluster.fork({ [PROCESS_INDEX_ENV]: String(index) });
        workers.add(worker);
        worker.once('listening', () => ready());
        worker.once('exit', (exitCode, signal) => {
          workers.delete(worker);
          failed(new Error(`process ${index} exited (${signal ?? exitCode}) before listening`));
          if (!stopping) {
            log(`ansflow serve: process ${index} (pid ${worker.process.pid}) exited (${signal ?? exitCode}); stopping the others`);
            code = 1;
            stopAll('SIGTERM');
          }
          if (workers.size === 0) resolve(code);
        });
      });
    const stopAll = (signal: NodeJS.Signals) => {
      stopping = true;
      for (const worker of workers) worker.process.kill(signal);
    };
    process.once('SIGTERM', () => stopAll('SIGTERM'));
    process.once('SIGINT', () => stopAll('SIGINT'));
    void (async () => {
      try {
        await fork(1);
        await Promise.all(Array.from({ length: count - 1 }, (_, i) => fork(i + 2)));
        log(`ansflow serve: ${count} processes serving (pids ${[...workers].map((w) => w.process.pid).join(', ')})`);
      } catch (error) {
        if (!stopping) {
          log(`ansflow serve: ${(error as Error).message}`);
          code = 1;
          stopAll('SIGTERM');
        }
      }
    })();
  });
}
