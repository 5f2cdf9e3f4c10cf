/**
 * The launcher of a server whose steps are sandboxed: it gives each run a RunSandbox and starts
 * each launch in the sandbox of the run it belongs to (LaunchRequest.scope). A launch that names
 * no open run is refused: nothing runs outside a sandbox by accident.
 *
 * Sandboxes are made ahead of time. Starting one (namespaces, mounts, a Node spawner inside) takes
 * tens of milliseconds, more than everything else between a trigger and the first step, so some
 * are kept warm (`warm`): a run takes one at once and another is prepared in the background. A warm sandbox
 * fits runs with the common shape (no local repositories to show, the default file size limit);
 * any other run gets one made for it. A warm sandbox that waited an hour is replaced, so that no
 * idle sandbox outlives a change of the machine (an upgraded tool) by long. The one a run took is
 * replaced once that run's first step has ended (or the run has ended, or after REFILL_DELAY_MS):
 * not while the run is between its trigger and its first step, nor while that step starts, which
 * it would slow down (making one costs ~50 ms of CPU; bench/sandbox.ts). With two kept warm the
 * next run still finds one meanwhile. A run
 * whose steps come from its pipeline file reserves its warm sandbox while the file is read, so the
 * two overlap (reserve(): readying a sandbox taken by a run that waits for it is most of what lies
 * between a trigger and the first step on a busy machine).
 */
import type { LaunchedProcess, LaunchRequest, OpenRunInput, ProcessLauncher, RunIsolation, RunSandbox as RunSandboxHandle } from '../launcher.js';
import { RunSandbox, type PrepareInput } from './run-sandbox.js';
import { SpawnerLauncher } from '../spawner-launcher.js';
import { resolveLimits } from './limits.js';
import type { SandboxState } from './sandbox-settings.js';

const WARM_MAX_AGE_MS = 3600 * 1000;
/** The latest a warm sandbox taken by a run is replaced, if its first step has not started by then. */
const REFILL_DELAY_MS = 500;

export interface SandboxLauncherOptions {
  workspaceRoot: string;
  /** How many sandboxes to keep ready (0: make each when its run starts). */
  warm: number;
  /** The latest a taken warm sandbox is replaced if its run's first step has not ended (default REFILL_DELAY_MS). */
  refillDelayMs?: number;
}

export class SandboxLauncher implements ProcessLauncher, RunIsolation {
  private readonly runs = new Map<number, RunSandbox>();
  /** Runs that took a warm sandbox and whose first step has not ended yet: refill() once it has. */
  private readonly refillAfterFirstLaunch = new Set<number>();
  private readonly warm: WarmSandbox[] = [];
  /** Warm sandboxes taken ahead for runs whose steps are still being read (reserve()). */
  private readonly reserved = new Map<number, WarmSandbox>();
  /** Sandboxes of ended runs still winding down. */
  private readonly closing = new Set<Promise<void>>();
  private closed = false;
  /**
   * Starts the sandboxes, so that this (large) process never forks (see HandedOverProcess), and
   * the platform's own commands that must run outside any sandbox (the repository mirrors' git,
   * in the data folder: run-command.ts).
   */
  readonly host = new SpawnerLauncher();

  constructor(
    private readonly state: Exclude<SandboxState, { mode: 'off' }>,
    private readonly options: SandboxLauncherOptions,
  ) {}

  /** Starts preparing the warm sandboxes (the first run then does not wait for one). */
  warmUp(): void {
    this.refill();
  }

  /**
   * A run whose steps are still being read (its pipeline file) takes its warm sandbox now, set
   * back to normal priority, so that reading the file and readying the sandbox overlap instead of
   * adding up. openRun() of the run uses it if the run fits a warm sandbox; otherwise, or on
   * release(), it goes back to the pool.
   */
  reserve(runId: number): void {
    if (this.closed || !this.state.available || this.reserved.has(runId)) return;
    const next = this.warm.shift();
    if (!next) return;
    next.hurry();
    this.reserved.set(runId, next);
  }

  release(runId: number): void {
    const held = this.reserved.get(runId);
    if (!held) return;
    this.reserved.delete(runId);
    this.giveBack(held);
  }

  async openRun(input: OpenRunInput): Promise<RunSandboxHandle> {
    const held = this.reserved.get(input.runId);
    this.reserved.delete(input.runId);
    if (this.closed) {
      if (held) this.giveBack(held);
      throw new Error('the step launcher is closed');
    }
    if (!this.state.available)
      throw new Error(`steps are not run: the sandbox cannot be set up (${this.state.reason}); ANSFLOW_SANDBOX=off runs them without isolation`);
    const shape = this.shapeOf(input);
    const fits = this.fitsWarm(shape);
    if (held && !fits) this.giveBack(held);
    const sandbox =
      (held && fits ? await usable(held) : null) ??
      (fits ? await this.takeWarm() : null) ??
      (await RunSandbox.prepare(this.state.settings, shape, { starter: this.host }));
    this.refillLater(input.runId);
    await sandbox.bind(input.runId);
    this.runs.set(input.runId, sandbox);
    return {
      workspace: { path: sandbox.slot.workspace, home: sandbox.slot.home },
      close: async () => {
        this.runs.delete(input.runId);
        this.refillNow(input.runId);
        // The run's outcome does not wait for its sandbox to wind down (the spawner's exit and the
        // namespaces' teardown, about 20 ms): its steps' groups are ended already, and whatever
        // escaped them ends with the PID namespace. close() of the launcher waits for it.
        const closing = sandbox.close().catch(() => undefined);
        this.closing.add(closing);
        void closing.then(() => this.closing.delete(closing));
      },
    };
  }

  async launch(request: LaunchRequest): Promise<LaunchedProcess> {
    const runId = request.scope?.runId;
    const sandbox = runId === undefined ? undefined : this.runs.get(runId);
    if (!sandbox) throw new Error("refused: a step process must start inside its run's sandbox, and none is open for it");
    const launched = sandbox.launch(request);
    // Once the first step's leader has exited (or could not start): see the top.
    if (this.refillAfterFirstLaunch.has(runId!))
      void launched
        .then((p) => p.exit)
        .finally(() => this.refillNow(runId!))
        .catch(() => undefined);
    return launched;
  }

  async close(): Promise<void> {
    this.closed = true;
    // Back to normal priority first: at nice 19 on a busy machine one could take very long to get ready.
    const warm = await Promise.all(
      [...this.warm.splice(0), ...this.reserved.values()].map((w) => {
        w.hurry();
        return w.ready;
      }),
    );
    this.reserved.clear();
    await Promise.all([...warm.map((s) => s?.discard()), ...[...this.runs.values()].map((s) => s.close()), ...this.closing]);
    this.runs.clear();
    await this.host.close();
    if (this.state.available) await this.state.settings.cgroups?.close();
  }

  private shapeOf(input: OpenRunInput): PrepareInput {
    const { settings } = this.available();
    const sizes = [settings.defaults, ...input.stepLimits.map((l) => resolveLimits(settings.defaults, l))].map((l) => l.fileSizeBytes);
    // The sandbox's own limit is the largest a step may have; smaller ones are set per launch.
    const fileSizeBytes = sizes.includes(null) ? null : Math.max(...(sizes as number[]));
    return { workspaceRoot: this.options.workspaceRoot, readOnlyPaths: input.readOnlyPaths, fileSizeBytes };
  }

  private fitsWarm(shape: PrepareInput): boolean {
    return shape.readOnlyPaths.length === 0 && shape.fileSizeBytes === this.available().settings.defaults.fileSizeBytes;
  }

  private async takeWarm(): Promise<RunSandbox | null> {
    while (this.warm.length > 0) {
      const sandbox = await usable(this.warm.shift()!);
      if (sandbox) return sandbox;
    }
    return null;
  }

  /** A reserved sandbox its run did not use: warm again, first in line (or discarded if the pool is full). */
  private giveBack(held: WarmSandbox): void {
    if (!this.closed && this.warm.length < this.options.warm) this.warm.unshift(held);
    else void held.ready.then((sandbox) => sandbox?.discard());
  }

  /** Replaces the warm sandbox a run took once its first step has ended (see the top). */
  private refillLater(runId: number): void {
    this.refillAfterFirstLaunch.add(runId);
    setTimeout(() => this.refillNow(runId), this.options.refillDelayMs ?? REFILL_DELAY_MS).unref();
  }

  private refillNow(runId: number): void {
    if (!this.refillAfterFirstLaunch.delete(runId)) return;
    this.refill();
  }

  private refill(): void {
    if (this.closed || !this.state.available) return;
    const { settings } = this.state;
    while (this.warm.length < this.options.warm) {
      const shape = { workspaceRoot: this.options.workspaceRoot, readOnlyPaths: [], fileSizeBytes: settings.defaults.fileSizeBytes };
      // A failure to prepare one ahead is not an error yet: the run that needs it makes its own and says why.
      let hurry!: () => void;
      const hurried = new Promise<void>((resolve) => (hurry = resolve));
      const ready = RunSandbox.prepare(settings, shape, { starter: this.host, lowPriority: true, hurried }).catch(() => null);
      this.warm.push({ ready, hurry });
    }
  }

  private available() {
    if (!this.state.available) throw new Error(this.state.reason);
    return this.state;
  }
}

interface WarmSandbox {
  ready: Promise<RunSandbox | null>;
  /** Back to normal priority: a run waits for it. */
  hurry: () => void;
}

/** The warm sandbox once ready, if it is alive and young enough; otherwise discarded, and null. */
async function usable(warm: WarmSandbox): Promise<RunSandbox | null> {
  // A run waits for it: no longer at low priority.
  warm.hurry();
  const sandbox = await warm.ready;
  if (sandbox?.alive && Date.now() - sandbox.preparedAt < WARM_MAX_AGE_MS) return sandbox;
  await sandbox?.discard();
  return null;
}
