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
import type { StepLimits } from '../../domain/pipeline.js';

export interface LaunchRequest {
  file: string;
  args: readonly string[];
  cwd: string;
  /** The complete environment; nothing is inherited. */
  env: Record<string, string>;
  /** Written to the process's stdin, which is then closed; without it stdin is /dev/null. */
  input?: string;
  /** stderr on a pipe of its own (LaunchedProcess.stderr) rather than sharing `output` with stdout. */
  separateStderr?: boolean;
  /**
   * The run and step this process belongs to. A sandboxing launcher starts it inside that run's
   * sandbox (RunIsolation.openRun), with the step's limits and network.
   */
  scope?: LaunchScope;
}

export interface LaunchScope {
  runId: number;
  limits?: StepLimits;
  network?: 'host' | 'none';
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when a resource limit ended the process: `memory limit 2 GiB exceeded`. */
  limit?: string;
  /**
   * Set when no process of the leader's group was left as it ended: there is nothing to
   * terminate (an empty group stays empty: nothing can join a group that does not exist).
   */
  groupGone?: boolean;
}

export interface LaunchedProcess {
  /** The leader's pid, which is also its process group id. */
  readonly pid: number;
  /**
   * stdout and stderr: one pipe carrying both in the order they were written. It ends once every
   * process holding it (the leader and whatever it started) has exited or closed it.
   */
  readonly output: Readable;
  /** With `separateStderr`: stderr (`output` then carries stdout alone). Ends as `output` does. */
  readonly stderr?: Readable;
  /** How the leader ended. Rejects when that can no longer be known (the launcher died). */
  readonly exit: Promise<ProcessExit>;
  /**
   * Whether the group lives in the server's own PID namespace and could outlive the server: its
   * pid is then recorded so that the next life can kill it. A sandboxed group dies with its sandbox.
   */
  readonly orphanable: boolean;
  /** Sends a signal to the leader's whole process group; false when the group is gone. */
  signalGroup(signal: NodeJS.Signals | 0): Promise<boolean>;
  /** Whether any process of the group is still alive (zombies do not count). */
  groupAlive(): Promise<boolean>;
}

export interface ProcessLauncher {
  /**
   * Starts the request as the leader of a new process group, stdin on /dev/null unless the request
   * gives `input`. Rejects when the process cannot be started (a missing executable or working
   * directory), saying why.
   */
  launch(request: LaunchRequest): Promise<LaunchedProcess>;
  close(): Promise<void>;
}

/**
 * Per-run isolation. The engine opens the run's sandbox before its first step and closes it when
 * the run ends; launches scoped to the run start inside it. The sandbox provides the run's
 * workspace and home (paths that are the same inside and outside it). Opening fails, saying why,
 * when steps cannot be isolated; the run then ends as a platform error rather than run unisolated.
 */
export interface RunIsolation {
  openRun(input: OpenRunInput): Promise<RunSandbox>;
  /**
   * The run will open its sandbox once its steps are known (they are being read from its pipeline
   * file): the sandbox may be readied meanwhile. release() when the run will not open it after
   * all (an invalid file, a run held or sent elsewhere); openRun() takes it over.
   */
  reserve?(runId: number): void;
  release?(runId: number): void;
}

export interface OpenRunInput {
  runId: number;
  /** Host paths the run may read (local repositories, when the operator allows them). */
  readOnlyPaths: string[];
  /** The run's steps' own limits (the sandbox sizes what is shared by all of them, e.g. file size). */
  stepLimits: StepLimits[];
}

export interface RunSandbox {
  workspace: { path: string; home: string };
  close(): Promise<void>;
}
