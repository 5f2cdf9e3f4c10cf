/**
 * One run's sandbox: a bubblewrap container holding a spawner, which starts each of the run's
 * step processes inside it: spawner.pl, a Perl script that speaks the protocol of the unsandboxed
 * launcher's spawner (spawner-main.ts) and costs a few ms of CPU to start where Node costs tens
 * to hundreds; that Node spawner where perl cannot run it (sandbox-spawner.ts).
 *
 * Why one per run and not one per step: creating the namespaces and mounts costs about 10 ms on
 * this kind of machine, several times a fork. Paid once per run, a step costs what a fork from
 * the spawner costs (bench/engine.ts measures both).
 *
 * Lifecycle:
 *   1. prepare(): before any run needs it (SandboxLauncher keeps one warm), a slot of folders is
 *      made (workspace, home, pipes: engine/workspace.ts) and bound at the same paths inside;
 *      the host's spawner (not the server: its fork() is slow, see HandedOverProcess) starts
 *      `prlimit` (the file-size limit of the whole sandbox), which execs bubblewrap, which builds
 *      the sandbox and starts the spawner inside it — through setpriv, which drops to the
 *      step's user, when the server is root; the spawner's IPC channel is handed to the server;
 *   2. ready once the spawner's first FIFOs arrive; its pid as this server sees it is looked up
 *      (children of bubblewrap's init), to move it between cgroups, and it is moved into the first
 *      launch's cgroup (cgroups.ts: a move waits for an RCU grace period, so it is done ahead);
 *      a warm sandbox started at low priority is set back to normal (priority.ts), its set-up done;
 *      bind() gives the sandbox to a run (`run-<id>` links to the slot);
 *   3. launch(): one at a time when cgroups are used — the spawner already waits in the launch's
 *      cgroup (given this launch's limits if they are not the defaults), forks the step there, the
 *      launch is handed over, and the spawner moves on into a new cgroup for the next launch while
 *      the step runs — so the step is born inside its limits and no move is on the launch's path;
 *      a step with `network: none` runs under `unshare --net` (its own, empty, network);
 *   4. the launch's end: which limit (if any) ended it, then its cgroup is emptied and removed;
 *   5. close(): the spawner is disconnected; it exits, bubblewrap's init with it, and the kernel
 *      ends every process left in the sandbox's PID namespace.
 */
import { fork } from 'node:child_process';
import { chownSync, existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { LaunchedProcess, LaunchRequest, ProcessExit } from '../launcher.js';
import { linkSlot, makeSlot, type SandboxSlot } from '../../workspace.js';
import { forkedProcess, nodeSpawner, Spawner, type ProcessStartRequest } from '../spawner-launcher.js';
import type { SpawnerProcess } from '../handed-over-process.js';
import { bwrapArgs } from './bwrap-args.js';
import type { Cgroups, LaunchCgroup, Placement, ResolvedLimits } from './cgroups.js';
import { resolveLimits } from './limits.js';
import { lowPriorityPrefix, restorePriority } from './priority.js';
import type { SandboxSettings } from './sandbox-settings.js';
import { formatSize } from '../../../domain/sizes.js';
import { processIsAlive, processStartTime } from '../../process-group.js';

/** How often a launch's cgroup is checked for refused forks (a fork bomb at its limit). */
const FORK_WATCH_MS = 200;
/** How long close() lets the sandbox's init wind down before it kills it. */
const CLOSE_KILL_MS = 5000;
/** How often a hurried sandbox that is not ready yet is set back to normal priority again. */
const RESTORE_RETRY_MS = 50;

/** How a sandbox is started: by whom, and (a warm one) at low priority until `hurried` resolves. */
export interface PrepareOptions {
  /** The host's spawner; without it, this process forks the sandbox. */
  starter?: ProcessStarter;
  /** Start at the lowest priority (priority.ts); back to normal when a run binds or hurries it. */
  lowPriority?: boolean;
  /** Resolves when a run waits for this sandbox: it is set back to normal priority at once. */
  hurried?: Promise<void>;
}

export interface PrepareInput {
  workspaceRoot: string;
  /** Host paths the run may read (local repositories). */
  readOnlyPaths: readonly string[];
  /** The file size limit of the whole sandbox (the largest any of its steps may have). */
  fileSizeBytes: number | null;
}

/** Who starts the sandbox: the host's spawner (SpawnerLauncher), so that this process need not fork. */
export interface ProcessStarter {
  startProcess(request: ProcessStartRequest): SpawnerProcess;
}

export class RunSandbox {
  private spawner: Spawner | null = null;
  private spawnerHostPid = 0;
  private placement: Placement | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * bubblewrap's init, pid 1 of the sandbox's PID namespace, as this server sees it (with its
   * start time, against pid reuse). The kernel ends every other process of the namespace before
   * this one is gone, so its end is the sandbox's: bubblewrap itself exits a little earlier.
   */
  private init: { pid: number; startTime: string } | null = null;
  /** The cgroup the spawner waits in: the next launch's, made and entered ahead (waitAhead). */
  private waiting: LaunchCgroup | null = null;
  private closing = false;
  private niced = false;
  private restored = false;
  private hurried = false;
  private restoreRetry: NodeJS.Timeout | undefined;
  private ready = false;
  readonly preparedAt = Date.now();

  private constructor(
    private readonly settings: SandboxSettings,
    readonly input: PrepareInput,
    readonly slot: SandboxSlot,
    private readonly options: PrepareOptions,
  ) {}

  /** Makes the slot and starts the sandbox; resolves once its spawner is ready. */
  static async prepare(settings: SandboxSettings, input: PrepareInput, options: PrepareOptions = {}): Promise<RunSandbox> {
    const sandbox = new RunSandbox(settings, input, await makeSlot(input.workspaceRoot), options);
    try {
      await sandbox.start();
    } catch (error) {
      await sandbox.discard();
      throw error;
    }
    return sandbox;
  }

  /** Gives the sandbox to a run: `run-<id>` links to its folders. */
  async bind(runId: number): Promise<void> {
    this.normalPriority();
    await linkSlot(this.input.workspaceRoot, runId, this.slot);
  }

  /** Whether it started at low priority (priority.ts) and has not been set back yet. */
  private get lowered(): boolean {
    return this.niced && !this.restored;
  }

  /**
   * Every process and thread of the sandbox back to normal priority. Before it is ready this is
   * repeated every RESTORE_RETRY_MS until it is: its pid may not be known yet (the host's spawner
   * reports it a little after starting it), `nice` may not have lowered itself yet, and processes
   * and threads still appear. Once is not enough: a sandbox left at 19 on a busy machine gets
   * about 1% of a core and can take longer than the spawner's start timeout, while a run waits.
   */
  private normalPriority(): void {
    this.hurried = true;
    if (!this.lowered) return;
    const pid = this.spawner?.pid;
    if (pid !== undefined) restorePriority(pid);
    if (this.ready) {
      this.restored = true;
      clearInterval(this.restoreRetry);
      return;
    }
    this.restoreRetry ??= setInterval(() => {
      if (this.spawner?.dead) clearInterval(this.restoreRetry);
      else this.normalPriority();
    }, RESTORE_RETRY_MS).unref();
  }

  get alive(): boolean {
    return this.spawner !== null && !this.spawner.dead;
  }

  private async start(): Promise<void> {
    const { settings, input, slot } = this;
    const owner = settings.runAs;
    for (const dir of [slot.workspace, slot.home, slot.pipes]) if (owner) chownSync(dir, owner.uid, owner.gid);

    const args = bwrapArgs({
      mounts: {
        hiddenDirs: settings.hiddenDirs,
        hiddenFiles: settings.hiddenFiles.filter((f) => existsSync(f)),
        revealed: settings.revealed,
        readOnly: input.readOnlyPaths.filter((p) => existsSync(p)),
        writable: [slot.workspace, slot.home, slot.pipes],
        ...(settings.identityFiles && { identity: settings.identityFiles }),
        runKeep: settings.runKeep,
      },
      privileges: owner ? { mode: 'setuid' } : { mode: 'user-namespace', identity: settings.identity },
      tmpBytes: settings.tmpBytes,
      cwd: slot.workspace,
    });
    // Root builds the sandbox, then setpriv drops to the step's user before anything of ours runs.
    const dropToStepUser = owner ? [settings.setpriv, `--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups', '--'] : [];
    const fileSizeLimit = input.fileSizeBytes !== null ? [`--fsize=${input.fileSizeBytes}`] : [];
    this.niced = this.options.lowPriority === true && settings.nice !== null;
    const nice = this.niced ? lowPriorityPrefix(settings.nice!) : [];
    void this.options.hurried?.then(() => this.normalPriority());
    this.spawner = new Spawner({
      fifoDir: () => slot.pipes,
      hostPids: false,
      fork: (spawnerArgs) => {
        // spawner.pl, or the Node spawner where perl cannot run it (sandbox-spawner.ts).
        const program = settings.spawner.kind === 'perl' ? settings.spawner.argv : [process.execPath, nodeSpawner().entry];
        const chain = [...nice, settings.prlimit, ...fileSizeLimit, '--', settings.bwrap, ...args, '--', ...dropToStepUser, ...program.slice(0, -1)];
        const entry = program.at(-1)!;
        const starter = this.options.starter;
        if (starter) {
          // What fork() would set up: the IPC channel as descriptor 3, JSON on it.
          const env = { PATH: settings.path, NODE_CHANNEL_FD: '3', NODE_CHANNEL_SERIALIZATION_MODE: 'json' };
          return starter.startProcess({ file: chain[0]!, args: [...chain.slice(1), entry, ...spawnerArgs], env });
        }
        return forkedProcess(
          fork(entry, spawnerArgs, {
            execPath: chain[0]!,
            execArgv: chain.slice(1),
            env: { PATH: settings.path },
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
            serialization: 'json',
          }),
        );
      },
    });
    await this.spawner.started();
    this.ready = true;
    if (this.hurried) this.normalPriority();
    const init = childrenOf(this.spawner.pid!)[0];
    const initStart = init === undefined ? null : processStartTime(init);
    if (init !== undefined && initStart !== null) this.init = { pid: init, startTime: initStart };
    if (settings.cgroups) {
      this.spawnerHostPid = findSpawner(this.spawner.pid!);
      this.placement = settings.cgroups.placeOf(this.spawnerHostPid);
      // Before any run needs it: the first launch then forks without a move.
      await this.serially(async (handOver) => handOver(await this.waitAhead(settings.cgroups!)));
    }
    // Set up: back to normal priority now, while no run waits, not when a run binds it (a walk of
    // its processes in /proc, on the trigger → first step path). Idle, its spawner takes no CPU at
    // any priority.
    this.normalPriority();
  }

  async launch(request: LaunchRequest): Promise<LaunchedProcess> {
    const spawner = this.spawner;
    if (!spawner || spawner.dead) throw new Error('the run sandbox is not running');
    // Never a step at low priority, whoever forgot to bind first.
    if (this.lowered) this.normalPriority();
    const limits = resolveLimits(this.settings.defaults, request.scope?.limits);
    let argv = [request.file, ...request.args];
    if (request.scope?.network === 'none') argv = [this.settings.unshare, '--net', '--map-current-user', '--', ...argv];
    // A step's own file size limit, smaller than its sandbox's: spawner.pl sets it between fork and
    // exec; the Node spawner cannot, so the step runs under prlimit (one exec more per launch).
    const sandboxFileSize = this.input.fileSizeBytes;
    const ownFileSize = limits.fileSizeBytes !== null && limits.fileSizeBytes !== sandboxFileSize ? limits.fileSizeBytes : undefined;
    const rlimits = ownFileSize !== undefined && this.settings.spawner.kind === 'perl' ? { fileSizeBytes: ownFileSize } : {};
    if (ownFileSize !== undefined && rlimits.fileSizeBytes === undefined) argv = [this.settings.prlimit, `--fsize=${ownFileSize}`, '--', ...argv];
    const wrapped: LaunchRequest = { ...request, file: argv[0]!, args: argv.slice(1) };

    const cgroups = this.settings.cgroups;
    if (!cgroups) return spawner.launch(wrapped, rlimits);
    let cgroup: LaunchCgroup | undefined;
    let cpu: LaunchCgroup | null = null;
    let launched: LaunchedProcess;
    // Until the spawner is out of the launch's cgroup, nothing may kill what is in it (the spawner
    // would go too): a step that exits at once ends before the spawner has left.
    let spawnerOut!: () => void;
    const released = new Promise<void>((resolve) => (spawnerOut = resolve));
    try {
      // The spawner is in one cgroup at a time: launches of this run go one after the other. The
      // launch is handed back before the spawner leaves, so that the caller listens to the output
      // before anything else can happen (a step that exits at once closes it at once); the spawner
      // then moves on into the next launch's cgroup while the step runs.
      launched = await this.serially(async (handOver) => {
        const group = (cgroup = await this.enter(cgroups, limits));
        try {
          // A CPU limit on v1: a cpu cgroup of its own, entered for the fork only (rare: no default).
          cpu = cgroups.createCpu(limits);
          if (cpu) await cpu.adopt(this.spawnerHostPid);
          handOver(await spawner.launch(wrapped, rlimits));
        } finally {
          if (cpu) await cpu.release(this.spawnerHostPid, this.placement!);
          if (!(await this.waitAhead(cgroups))) await group.release(this.spawnerHostPid, this.placement!);
          group.spawnerLeft();
          spawnerOut();
        }
      });
    } catch (error) {
      await released;
      // (Assigned in the task above; TypeScript does not see it.)
      await Promise.all([cgroup?.remove(), (cpu as LaunchCgroup | null)?.remove()]);
      throw error;
    }
    return { ...launched, exit: this.watch(launched, cgroup!, cpu, released) };
  }

  /**
   * The launch's cgroup, with the spawner in it: the one it waits in (made and entered while the
   * previous step ran, or as the sandbox started), given this launch's limits; else a new one.
   */
  private async enter(cgroups: Cgroups, limits: ResolvedLimits): Promise<LaunchCgroup> {
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting) {
      try {
        waiting.refit(limits);
        return waiting;
      } catch {
        // Limits it cannot take now (memory already above the new limit): a new cgroup, below.
      }
    }
    const group = cgroups.create(limits);
    try {
      await group.adopt(this.spawnerHostPid);
    } catch (error) {
      await group.release(this.spawnerHostPid, this.placement!);
      void group.remove();
      // Where it was put back, the spawner is out of the one it waited in too.
      if (waiting) void waiting.release(this.spawnerHostPid, this.placement!).then(() => waiting.remove());
      throw error;
    }
    // The spawner left the one it waited in (for the new one): nothing was started in it.
    if (waiting) void waiting.remove();
    return group;
  }

  /**
   * Makes the next launch's cgroup (the default limits) and moves the spawner into it, so that the
   * next launch forks at once. False when that failed; the spawner is then where it was.
   */
  private async waitAhead(cgroups: Cgroups): Promise<boolean> {
    if (this.closing) return false;
    let next: LaunchCgroup;
    try {
      next = cgroups.create({ ...this.settings.defaults, cpus: cgroups.version === 2 ? this.settings.defaults.cpus : null });
    } catch {
      return false;
    }
    try {
      await next.adopt(this.spawnerHostPid);
    } catch {
      // Partly moved (one hierarchy of two): back where it was, then the cgroup can go.
      await next.release(this.spawnerHostPid, this.placement!);
      void next.remove();
      return false;
    }
    next.hostSpawner(next.tasks());
    this.waiting = next;
    return true;
  }

  /** The launch's exit, with the limit that ended it; its cgroup is removed after. */
  private async watch(launched: LaunchedProcess, cgroup: LaunchCgroup, cpu: LaunchCgroup | null, released: Promise<void>): Promise<ProcessExit> {
    let forkLimit = false;
    const timer = setInterval(() => {
      if (forkLimit || cgroup.forksRefused() === 0) return;
      forkLimit = true;
      void released.then(() => cgroup.killAll());
    }, FORK_WATCH_MS);
    timer.unref();
    try {
      const exit = await launched.exit;
      // Which limit ended it is told only for a failure (process.ts, describeExit): a leader that
      // exited 0 has its cgroup's counters left unread, two file reads off each step's end.
      if (exit.code === 0 && exit.signal === null) return exit;
      const limit = cgroup.verdict() ?? fileSizeVerdict(exit, cgroup.limits.fileSizeBytes);
      return limit ? { ...exit, limit } : exit;
    } finally {
      clearInterval(timer);
      // Not awaited: the kernel lets go of an exited process's cgroup a little after its exit.
      // What escaped the group (setsid) is killed there; runProcess terminates the group itself.
      void released.then(() => Promise.all([cgroup.remove(), cpu?.remove()]));
    }
  }

  /**
   * Runs `task` after the tasks queued before it. Its result is handed to the caller as soon as
   * the task calls `handOver`, while the queue waits for the whole task to finish.
   */
  private serially<T>(task: (handOver: (value: T) => T) => Promise<unknown>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const run = () =>
        task((value) => {
          resolve(value);
          return value;
        }).catch(reject);
      this.queue = this.queue.then(run, run);
    });
  }

  /** Stops the sandbox; every process left in it ends with its PID namespace. The folders stay. */
  async close(): Promise<void> {
    this.closing = true;
    await this.spawner?.close();
    await this.namespaceGone();
    await this.queue.catch(() => undefined);
    const waiting = this.waiting;
    this.waiting = null;
    // The spawner that waited in it has exited.
    await waiting?.remove();
  }

  /**
   * Waits until the sandbox's init has ended, and with it everything in its PID namespace (a
   * process that left its step's group and session, say). bubblewrap exits as soon as its init
   * reports the spawner's exit, before that; the init itself is killed with bubblewrap
   * (--die-with-parent), so this takes a few milliseconds. SIGKILL after CLOSE_KILL_MS, as for a
   * spawner that would not leave.
   */
  private async namespaceGone(): Promise<void> {
    const init = this.init;
    if (!init) return;
    const alive = () => processStartTime(init.pid) === init.startTime && processIsAlive(init.pid);
    const started = Date.now();
    for (let wait = 1; alive(); wait = Math.min(wait * 2, 50)) {
      if (Date.now() - started > CLOSE_KILL_MS) {
        try {
          process.kill(init.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** Stops a sandbox no run used, and removes its folders. */
  async discard(): Promise<void> {
    await this.close();
    await rm(this.slot.dir, { recursive: true, force: true });
  }
}

function fileSizeVerdict(exit: ProcessExit, limit: number | null): string | undefined {
  if (limit === null) return undefined;
  // The leader itself was killed, or (a shell) reports that a command was: 128 + SIGXFSZ (25).
  if (exit.signal === 'SIGXFSZ' || exit.code === 153) return `file size limit ${formatSize(limit)} exceeded`;
  return undefined;
}

/**
 * The spawner's pid in this server's namespace: bubblewrap (the forked child, after prlimit's exec)
 * starts an init process in the new PID namespace, which starts the spawner.
 */
function findSpawner(bwrapPid: number): number {
  const init = childrenOf(bwrapPid)[0];
  const spawner = init === undefined ? undefined : childrenOf(init)[0];
  if (spawner === undefined) throw new Error('the run sandbox started, but its spawner could not be found');
  return spawner;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
