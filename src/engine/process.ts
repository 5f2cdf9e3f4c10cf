/**
 * Runs one command as the leader of its own process group and streams its output.
 *
 * Lifecycle:
 *   1. spawn(argv[0], argv.slice(1), detached) — an argv array, never a shell string of ours;
 *   2. stdout and stderr chunks go to `onOutput` as they arrive (merged, in arrival order);
 *   3. on abort: SIGTERM the group, SIGKILL it after `cancelGraceMs`;
 *   4. when the leader exits (normally or not), whatever is left in its group is terminated too,
 *      like Jenkins' ProcessTreeKiller: a background child must not outlive its step;
 *   5. stdio is given `stdioDrainMs` to close after that; a process that escaped the group
 *      (setsid) and still holds the pipes open cannot hang the step.
 */
import { spawn } from 'node:child_process';
import { coerceError } from '../domain/errors.js';
import { terminateGroup } from './process-group.js';

export interface RunProcessOptions {
  /** Executable and arguments. */
  argv: readonly string[];
  cwd: string;
  /** The complete environment (nothing is inherited from the server). */
  env: Record<string, string>;
  signal: AbortSignal;
  cancelGraceMs: number;
  onOutput(chunk: Buffer): void;
  onSpawn?(pid: number): void;
  /** How long to wait for stdout/stderr to close once the group is gone. */
  stdioDrainMs?: number;
}

export interface ProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The run's or step's signal fired while the process ran. */
  aborted: boolean;
  /** The process could not be started (e.g. ENOENT); exitCode and signal are null. */
  spawnError?: Error;
}

const DEFAULT_STDIO_DRAIN_MS = 2000;

export function runProcess(options: RunProcessOptions): Promise<ProcessResult> {
  const { argv, signal } = options;
  const [file, ...args] = argv;
  if (!file) return Promise.resolve({ exitCode: null, signal: null, aborted: false, spawnError: new Error('empty argv') });
  if (signal.aborted) return Promise.resolve({ exitCode: null, signal: null, aborted: true });

  return new Promise<ProcessResult>((resolve) => {
    let aborted = false;
    let spawnError: Error | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let termination: Promise<void> | undefined;
    let openStreams = 2;
    let groupGone = false;
    let settled = false;
    let drainTimer: NodeJS.Timeout | undefined;

    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const pid = child.pid;

    const terminate = () => {
      if (pid !== undefined) termination ??= terminateGroup(pid, options.cancelGraceMs);
      return termination ?? Promise.resolve();
    };
    const onAbort = () => {
      aborted = true;
      void terminate();
    };
    signal.addEventListener('abort', onAbort, { once: true });

    const finish = () => {
      if (settled) return;
      settled = true;
      if (drainTimer) clearTimeout(drainTimer);
      signal.removeEventListener('abort', onAbort);
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({ exitCode: exit?.code ?? null, signal: exit?.signal ?? null, aborted, ...(spawnError ? { spawnError } : {}) });
    };
    const maybeFinish = () => {
      if (exit !== undefined && groupGone && openStreams === 0) finish();
    };

    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => options.onOutput(chunk));
      stream?.once('close', () => {
        openStreams -= 1;
        maybeFinish();
      });
      stream?.on('error', () => undefined);
    }

    child.once('error', (error) => {
      spawnError = coerceError(error);
      openStreams = 0;
      finish();
    });
    if (pid !== undefined) options.onSpawn?.(pid);

    child.once('exit', (code, exitSignal) => {
      exit = { code, signal: exitSignal };
      // Kill what the leader left behind, then give the pipes a bounded time to drain.
      void terminate().then(() => {
        groupGone = true;
        if (settled) return;
        drainTimer = setTimeout(finish, options.stdioDrainMs ?? DEFAULT_STDIO_DRAIN_MS);
        maybeFinish();
      });
    });
  });
}

/** One line that tells how a process ended, for the step log and messages. */
export function describeExit(result: ProcessResult): string {
  if (result.spawnError) return `could not start: ${result.spawnError.message}`;
  if (result.signal) return `killed by ${result.signal}`;
  return `exit code ${String(result.exitCode)}`;
}
