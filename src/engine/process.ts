/**
 * Runs one command as the leader of its own process group and streams its output.
 *
 * Lifecycle:
 *   1. the launcher starts argv[0] with argv.slice(1) (an argv array, never a shell string of ours)
 *      in a new process group;
 *   2. output chunks (stdout and stderr, in the order written) go to `onOutput` as they arrive;
 *   3. on abort: SIGTERM the group, SIGKILL it after `cancelGraceMs`;
 *   4. when the leader exits (normally or not), whatever is left in its group is terminated too,
 *      like Jenkins' ProcessTreeKiller: a background child must not outlive its step;
 *   5. the output is given `stdioDrainMs` to end after that; a process that escaped the group
 *      (setsid) and still holds the pipe open cannot hang the step.
 */
import { coerceError } from '../domain/errors.js';
import type { LaunchedProcess, LaunchScope, ProcessExit, ProcessLauncher } from './launch/launcher.js';
import type { StepContext } from './ports.js';
import { terminateGroup } from './process-group.js';

/** What every executor that starts processes is configured with. */
export interface ProcessOptions {
  launcher: ProcessLauncher;
  /** How long a cancelled group has between SIGTERM and SIGKILL. */
  cancelGraceMs: number;
}

export interface RunProcessOptions extends ProcessOptions {
  /** Executable and arguments. */
  argv: readonly string[];
  cwd: string;
  /** The complete environment (nothing is inherited from the server). */
  env: Record<string, string>;
  signal: AbortSignal;
  onOutput(chunk: Buffer): void;
  onSpawn?(pid: number): void;
  /** How long to wait for the output to end once the group is gone. */
  stdioDrainMs?: number;
  /** The run and step, for a launcher that sandboxes runs. */
  scope?: LaunchScope;
}

export interface ProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** A resource limit ended it: `memory limit 2 GiB exceeded`. */
  limit?: string;
  /** The run's or step's signal fired while the process ran. */
  aborted: boolean;
  /**
   * The platform failed the process: it could not be started (e.g. ENOENT), or how it ended could
   * not be learnt (the launcher died). exitCode and signal are null.
   */
  failure?: Error;
}

const DEFAULT_STDIO_DRAIN_MS = 2000;

export async function runProcess(options: RunProcessOptions): Promise<ProcessResult> {
  const { argv, signal } = options;
  const [file, ...args] = argv;
  if (!file) return { exitCode: null, signal: null, aborted: false, failure: new Error('could not start: empty argv') };
  if (signal.aborted) return { exitCode: null, signal: null, aborted: true };

  let launched: LaunchedProcess;
  try {
    launched = await options.launcher.launch({ file, args, cwd: options.cwd, env: options.env, ...(options.scope && { scope: options.scope }) });
  } catch (error) {
    return { exitCode: null, signal: null, aborted: false, failure: new Error(`could not start: ${coerceError(error).message}`) };
  }
  // A sandboxed group dies with its sandbox; only a host group must be recorded for recovery.
  if (launched.orphanable) options.onSpawn?.(launched.pid);
  return supervise(launched, options);
}

function supervise(launched: LaunchedProcess, options: RunProcessOptions): Promise<ProcessResult> {
  const { output } = launched;
  const { signal } = options;
  return new Promise<ProcessResult>((resolve) => {
    let aborted = false;
    let exit: ProcessExit | undefined;
    let lost: Error | undefined;
    let termination: Promise<void> | undefined;
    let outputOpen = true;
    let groupGone = false;
    let settled = false;
    let drainTimer: NodeJS.Timeout | undefined;

    const group = { signal: (s: NodeJS.Signals | 0) => launched.signalGroup(s), alive: () => launched.groupAlive() };
    const terminate = () => (termination ??= terminateGroup(group, options.cancelGraceMs));
    const onAbort = () => {
      aborted = true;
      void terminate();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    // Aborted while it was being launched.
    if (signal.aborted) onAbort();

    const finish = () => {
      if (settled) return;
      settled = true;
      if (drainTimer) clearTimeout(drainTimer);
      signal.removeEventListener('abort', onAbort);
      output.destroy();
      resolve({
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        aborted,
        ...(exit?.limit && { limit: exit.limit }),
        ...(lost ? { failure: lost } : {}),
      });
    };
    // groupGone is set only once the leader has ended (and its group is gone).
    const maybeFinish = () => {
      if (groupGone && !outputOpen) finish();
    };

    output.on('data', (chunk: Buffer) => options.onOutput(chunk));
    output.once('close', () => {
      outputOpen = false;
      maybeFinish();
    });
    output.on('error', () => undefined);

    const leaderEnded = () => {
      // Kill what the leader left behind, then give the output a bounded time to end.
      const leftBehind = exit?.groupGone && !termination ? Promise.resolve() : terminate();
      void leftBehind.then(() => {
        groupGone = true;
        if (settled) return;
        drainTimer = setTimeout(finish, options.stdioDrainMs ?? DEFAULT_STDIO_DRAIN_MS);
        maybeFinish();
      });
    };
    launched.exit.then(
      (ended) => {
        exit = ended;
        leaderEnded();
      },
      (error: unknown) => {
        lost = coerceError(error);
        leaderEnded();
      },
    );
  });
}

/**
 * runProcess for an executor's step: the executor's launcher and grace period, the step's signal,
 * every spawned pid reported, and the output into the step log unless `onOutput` takes it.
 */
export function runStepProcess(
  options: ProcessOptions,
  ctx: StepContext,
  p: { argv: readonly string[]; cwd: string; env: Record<string, string>; onOutput?: (chunk: Buffer) => void },
): Promise<ProcessResult> {
  const step = ctx.spec.steps.find((s) => s.stepId === ctx.stepId);
  return runProcess({
    argv: p.argv,
    cwd: p.cwd,
    env: p.env,
    scope: { runId: ctx.runId, ...(step?.limits && { limits: step.limits }), ...(step?.network && { network: step.network }) },
    signal: ctx.signal,
    launcher: options.launcher,
    cancelGraceMs: options.cancelGraceMs,
    onSpawn: ctx.processStarted,
    onOutput: p.onOutput ?? ctx.output,
  });
}

/** One line that tells how a process ended, for the step log and messages. */
export function describeExit(result: ProcessResult): string {
  if (result.failure) return result.failure.message;
  if (result.limit) return `step killed: ${result.limit}`;
  if (result.signal) return `killed by ${result.signal}`;
  return `exit code ${String(result.exitCode)}`;
}
