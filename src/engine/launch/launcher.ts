/**
 * How the engine starts a step's process. `runProcess` (../process.ts) owns everything around a
 * launch (aborting, killing the group, draining output); a launcher only starts the process and
 * reports how it ended.
 *
 * The one adapter, SpawnerLauncher, forks from a small helper process instead of the server: fork()
 * copies the parent's page tables, so spawning from a server holding 150 MB costs about three
 * times what it costs from a 40 MB helper (docs/benchmarks.md, bench/fork-cost.ts).
 */
import type { Readable } from 'node:stream';

export interface LaunchRequest {
  file: string;
  args: readonly string[];
  cwd: string;
  /** The complete environment; nothing is inherited. */
  env: Record<string, string>;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchedProcess {
  /** The leader's pid, which is also its process group id. */
  readonly pid: number;
  /**
   * stdout and stderr: one pipe carrying both in the order they were written. It ends once every
   * process holding it (the leader and whatever it started) has exited or closed it.
   */
  readonly output: Readable;
  /** How the leader ended. Rejects when that can no longer be known (the launcher died). */
  readonly exit: Promise<ProcessExit>;
}

export interface ProcessLauncher {
  /**
   * Starts the request as the leader of a new process group, stdin on /dev/null. Rejects when the
   * process cannot be started (a missing executable or working directory), saying why.
   */
  launch(request: LaunchRequest): Promise<LaunchedProcess>;
  close(): Promise<void>;
}
