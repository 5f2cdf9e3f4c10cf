/**
 * The ProcessLauncher of the server and workers: steps are started by a spawner process
 * (spawner-main.ts) that this class forks, restarts when it dies, and stops on close().
 *
 * One life of the spawner is a `Spawner`. When it dies, launches waiting for it fail, and processes
 * it started lose their exit status (their `exit` rejects): runProcess still kills their group and
 * reads their output to the end, and the step ends as a platform error. The next launch starts a
 * new spawner.
 */
import { ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { closeSync, constants, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LaunchedProcess, LaunchRequest, ProcessExit, ProcessLauncher } from './launcher.js';
import { groupIsAlive, signalGroup } from '../process-group.js';
import type { SpawnerMessage, ToSpawner } from './spawner-protocol.js';
import { HandedOverProcess, type SpawnerProcess } from './handed-over-process.js';
import { coerceError } from '../../domain/errors.js';

/** Ask for another batch of FIFOs when fewer than this are left. */
const FIFO_LOW_WATER = 16;
const START_TIMEOUT_MS = 30_000;
const CLOSE_TIMEOUT_MS = 5_000;

export class SpawnerLauncher implements ProcessLauncher {
  private current: Spawner | null = null;
  private readonly start: SpawnerStart = {
    fifoDir: () => mkdtempSync(join(tmpdir(), 'ansflow-spawner-')),
    fork: (args) =>
      forkedProcess(
        fork(nodeSpawner().entry, args, {
          execArgv: [],
          // Not the server's environment (secrets); steps get theirs with each launch.
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          serialization: 'json',
        }),
      ),
    hostPids: true,
  };
  private closed = false;

  async launch(request: LaunchRequest): Promise<LaunchedProcess> {
    if (this.closed) throw new Error('the step launcher is closed');
    return this.spawner().launch(request);
  }

  /**
   * Starts a process from the spawner, not from this process, with an IPC channel to this one
   * (another spawner, in a run's sandbox). See HandedOverProcess for why.
   */
  startProcess(request: ProcessStartRequest): HandedOverProcess {
    if (this.closed) throw new Error('the step launcher is closed');
    return this.spawner().startProcess(request);
  }

  /** Starts the spawner now, so that the first step does not wait for it. */
  async warmUp(): Promise<void> {
    await this.spawner().started();
  }

  /** The spawner's pid (tests and diagnostics). */
  get spawnerPid(): number | undefined {
    return this.current?.dead === false ? this.current.pid : undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.current?.close();
  }

  private spawner(): Spawner {
    if (!this.current || this.current.dead) this.current = new Spawner(this.start);
    return this.current;
  }
}

/**
 * How one life of a spawner is started: where its FIFOs live, how it is forked (directly, or
 * inside a sandbox; which program: spawner-main.ts, or inside a sandbox sandbox/spawner.pl), and
 * whether the pids it reports are this server's (or a sandbox's PID namespace's, in which case
 * process groups are signalled through the spawner). `args` ends with the FIFO folder.
 */
export interface SpawnerStart {
  fifoDir(): string;
  fork(args: string[]): SpawnerProcess;
  hostPids: boolean;
}

/** A process for the host's spawner to start with an IPC channel to this process (its descriptor 3). */
export interface ProcessStartRequest {
  file: string;
  args: string[];
  /** Its whole environment; NODE_CHANNEL_FD=3 makes a Node program there use the channel. */
  env: Record<string, string>;
  /**
   * The socket on descriptor 3 carries the process's own bytes, not Node's IPC: it is handed over
   * unread (HandedOverProcess's 'channel' event), e.g. a long-lived `git cat-file --batch`.
   */
  raw?: boolean;
}

interface InFlight {
  started: boolean;
  start: Deferred<number>;
  exit: Deferred<ProcessExit>;
}

/** One life of the spawner process. */
export class Spawner {
  dead = false;
  private readonly dir: string;
  private readonly child: SpawnerProcess;
  private readonly readiness = deferred<void>();
  private fifos: string[] = [];
  private askedForFifos = true; // the spawner makes its first batch unasked
  private fifoWaiters: Array<Deferred<string>> = [];
  private readonly inFlight = new Map<number, InFlight>();
  private nextId = 1;
  private holds = 0;
  private readonly replies = new Map<number, Deferred<boolean>>();
  private readonly starting = new Map<number, HandedOverProcess>();
  /** Processes started for startProcess that have not exited yet (their exit is reported here). */
  private readonly handedOver = new Map<number, HandedOverProcess>();

  constructor(private readonly how: SpawnerStart) {
    this.readiness.promise.catch(() => undefined);
    this.dir = how.fifoDir();
    this.child = how.fork([this.dir]);
    this.setRef(false);
    this.child.on('message', (message: SpawnerMessage, handle?: unknown) => this.onMessage(message, handle));
    this.child.once('error', (error) => this.died(`the step spawner failed: ${error.message}`));
    this.child.once('exit', (code, signal) => this.died(`the step spawner exited (${signal ?? `code ${String(code)}`})`));
    const timer = setTimeout(() => {
      this.readiness.reject(new Error(`the step spawner did not start within ${START_TIMEOUT_MS / 1000} s`));
      this.child.kill('SIGKILL');
    }, START_TIMEOUT_MS);
    timer.unref();
    void this.readiness.promise.then(
      () => clearTimeout(timer),
      () => clearTimeout(timer),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The spawner's folder of FIFOs. */
  get fifoDir(): string {
    return this.dir;
  }

  /** Resolves once the spawner is ready, keeping this process alive until then. */
  async started(): Promise<void> {
    this.hold();
    try {
      await this.readiness.promise;
    } finally {
      this.release();
    }
  }

  /** `fileSizeBytes`: the child's RLIMIT_FSIZE, for spawner.pl only (LaunchMessage.fileSizeBytes). */
  async launch(request: LaunchRequest, options: { fileSizeBytes?: number } = {}): Promise<LaunchedProcess> {
    this.hold();
    const fds: number[] = [];
    let id = 0;
    try {
      await this.readiness.promise;
      // The read ends are opened before the spawner opens the write ends and kept until the output
      // is read: the pipe then outlives a child that exits at once, with its output in it.
      const fifo = await this.openFifo(fds);
      const stderrFifo = request.separateStderr ? await this.openFifo(fds) : undefined;
      id = this.nextId++;
      const entry: InFlight = { started: false, start: deferred(), exit: deferred() };
      entry.exit.promise.catch(() => undefined);
      this.inFlight.set(id, entry);
      this.send({
        type: 'launch',
        id,
        file: request.file,
        args: [...request.args],
        cwd: request.cwd,
        env: request.env,
        fifo,
        ...(stderrFifo !== undefined && { stderrFifo }),
        ...(request.input !== undefined && { input: request.input }),
        ...(options.fileSizeBytes !== undefined && { fileSizeBytes: options.fileSizeBytes }),
      });
      const pid = await entry.start.promise;
      // Only now: reading a FIFO no writer has opened yet would see end-of-file at once.
      const [output, stderr] = fds.map((fd) => new Socket({ fd, readable: true, writable: false }));
      return {
        pid,
        output: output!,
        ...(stderr && { stderr }),
        exit: entry.exit.promise,
        orphanable: this.how.hostPids,
        ...this.groupControl(pid),
      };
    } catch (error) {
      if (id !== 0) this.inFlight.delete(id);
      for (const fd of fds) closeSync(fd);
      this.release();
      throw error;
    }
  }

  /** Takes a FIFO of the stock and opens its read end (kept in `fds`, which the caller closes on failure). */
  private async openFifo(fds: number[]): Promise<string> {
    const fifo = await this.takeFifo();
    const rfd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    fds.push(rfd);
    // Steps run as this user and could reach the folder: never read anything but our FIFO.
    if (dirname(fifo) !== this.dir || !fstatSync(rfd).isFIFO()) throw new Error(`${fifo} is not one of the step spawner's pipes`);
    return fifo;
  }

  private groupControl(pgid: number): Pick<LaunchedProcess, 'signalGroup' | 'groupAlive'> {
    if (this.how.hostPids) return { signalGroup: async (signal) => signalGroup(pgid, signal), groupAlive: async () => groupIsAlive(pgid) };
    // A sandbox's pid: only the spawner inside can reach it. A dead spawner took its sandbox, and
    // with it the group, along (its PID namespace ends with it).
    const ask = (type: 'signal' | 'alive', signal?: NodeJS.Signals | 0): Promise<boolean> => {
      if (this.dead) return Promise.resolve(false);
      const id = this.nextId++;
      const reply = deferred<boolean>();
      this.replies.set(id, reply);
      try {
        this.send({ type, id, pgid, ...(signal !== undefined && { signal }) });
      } catch {
        this.replies.delete(id);
        return Promise.resolve(false);
      }
      // Referenced until the answer comes: nothing else may keep this process alive meanwhile.
      this.hold();
      return reply.promise.finally(() => this.release());
    };
    return { signalGroup: (signal) => ask('signal', signal), groupAlive: () => ask('alive') };
  }

  /** See SpawnerLauncher.startProcess. */
  startProcess(request: ProcessStartRequest): HandedOverProcess {
    // Referenced, it keeps this spawner's channel referenced too: its exit comes that way.
    const started = new HandedOverProcess({ hold: () => this.hold(), release: () => this.release() }, { raw: request.raw === true });
    const id = this.nextId++;
    this.hold();
    this.starting.set(id, started);
    this.readiness.promise
      .then(() => this.send({ type: 'start-process', id, file: request.file, args: request.args, env: request.env }))
      .catch((error: unknown) => this.startFailed(id, coerceError(error)));
    return started;
  }

  private startFailed(id: number, error: Error): void {
    const started = this.starting.get(id);
    if (!started) return;
    this.starting.delete(id);
    this.release();
    started.failed(error);
  }

  /** Disconnects the spawner and waits for it to exit; died() then removes its folder. */
  async close(): Promise<void> {
    if (this.dead) return;
    // Referenced while it winds down: an unreferenced child (or channel) would let this process's
    // event loop end before the exit that close() waits for is seen.
    this.hold();
    try {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      if (this.child.connected) this.child.disconnect();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), CLOSE_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    } finally {
      this.release();
    }
  }

  private onMessage(message: SpawnerMessage, handle?: unknown): void {
    switch (message.type) {
      case 'fifos': {
        this.askedForFifos = false;
        this.fifos.push(...message.paths);
        while (this.fifoWaiters.length > 0 && this.fifos.length > 0) this.fifoWaiters.shift()!.resolve(this.fifos.shift()!);
        this.askForFifosIfLow();
        this.readiness.resolve();
        return;
      }
      case 'fifo-error': {
        this.askedForFifos = false;
        const error = new Error(`the step spawner could not make pipes: ${message.message}`);
        for (const waiter of this.fifoWaiters.splice(0)) waiter.reject(error);
        this.readiness.reject(error);
        return;
      }
      case 'started': {
        const entry = this.inFlight.get(message.id);
        if (!entry) return;
        entry.started = true;
        entry.start.resolve(message.pid);
        return;
      }
      case 'failed': {
        // launch() closes the read end and releases its hold.
        this.inFlight.get(message.id)?.start.reject(new Error(message.message));
        this.startFailed(message.id, new Error(`could not start: ${message.message}`));
        return;
      }
      case 'process-started': {
        const started = this.starting.get(message.id);
        if (!started) return;
        this.starting.delete(message.id);
        this.release();
        this.handedOver.set(message.id, started);
        if (handle instanceof Socket) started.attach(message.pid, handle);
        else started.failed(new Error('the step spawner started a process but handed over no channel'));
        return;
      }
      case 'process-exited': {
        const started = this.handedOver.get(message.id);
        this.handedOver.delete(message.id);
        started?.exited(message.code, message.signal);
        return;
      }
      case 'reply': {
        this.replies.get(message.id)?.resolve(message.ok);
        this.replies.delete(message.id);
        return;
      }
      case 'exited': {
        const entry = this.inFlight.get(message.id);
        if (!entry) return;
        this.inFlight.delete(message.id);
        entry.exit.resolve({ code: message.code, signal: message.signal, ...(message.groupGone && { groupGone: true }) });
        this.release();
        return;
      }
    }
  }

  private died(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    const error = new Error(reason);
    this.readiness.reject(error);
    for (const waiter of this.fifoWaiters.splice(0)) waiter.reject(error);
    for (const reply of this.replies.values()) reply.resolve(false);
    this.replies.clear();
    for (const id of [...this.starting.keys()]) this.startFailed(id, error);
    // What it started dies with it (bubblewrap's --die-with-parent); none of their exits will come.
    for (const started of this.handedOver.values()) started.reporterLost();
    this.handedOver.clear();
    for (const [id, entry] of this.inFlight) {
      this.inFlight.delete(id);
      if (!entry.started) {
        entry.start.reject(error);
        continue;
      }
      entry.exit.reject(new Error(`${reason} while the process ran: how it ended is unknown`));
      this.release();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private takeFifo(): Promise<string> {
    const fifo = this.fifos.shift();
    this.askForFifosIfLow();
    if (fifo !== undefined) return Promise.resolve(fifo);
    const waiter = deferred<string>();
    this.fifoWaiters.push(waiter);
    return waiter.promise;
  }

  private askForFifosIfLow(): void {
    if (this.askedForFifos || this.fifos.length >= FIFO_LOW_WATER) return;
    this.askedForFifos = true;
    this.send({ type: 'more' });
  }

  private send(message: ToSpawner): void {
    if (this.dead || !this.child.connected) throw new Error('the step spawner is not running');
    this.child.send(message, (error: Error | null) => {
      if (error) this.died(`the step spawner is unreachable: ${error.message}`);
    });
  }

  /** The spawner keeps this process alive only while a launch or a launched process needs it. */
  private hold(): void {
    if (this.holds++ === 0) this.setRef(true);
  }

  private release(): void {
    if (--this.holds === 0) this.setRef(false);
  }

  private setRef(on: boolean): void {
    if (on) this.child.ref();
    else this.child.unref();
  }
}

/** A fork()ed spawner as a SpawnerProcess: keeping it referenced means its IPC channel too. */
export function forkedProcess(child: ChildProcess): SpawnerProcess {
  const forked = child as ChildProcess & SpawnerProcess;
  return Object.assign(forked, {
    ref: () => {
      ChildProcess.prototype.ref.call(child);
      child.channel?.ref();
    },
    unref: () => {
      ChildProcess.prototype.unref.call(child);
      child.channel?.unref();
    },
  });
}

/** The Node spawner's script (spawner-main), started with no Node flags. */
export function nodeSpawner(): { entry: string } {
  // Built, the spawner is plain JavaScript and starts with no flags at all. Run from source (tests,
  // tsx), it is bundled once into plain JavaScript too, rather than started with tsx's loader:
  // that loader costs about a second per start and runs a compiler service beside the spawner.
  if (!import.meta.url.endsWith('.ts')) return { entry: fileURLToPath(new URL('./spawner-main.js', import.meta.url)) };
  return { entry: (bundledFromSource ??= bundleFromSource()) };
}

let bundledFromSource: string | undefined;

function bundleFromSource(): string {
  const require = createRequire(import.meta.url);
  const esbuild = require('esbuild') as typeof import('esbuild');
  const source = fileURLToPath(new URL('./spawner-main.ts', import.meta.url));
  const built = esbuild.buildSync({ entryPoints: [source], bundle: true, platform: 'node', format: 'esm', write: false, logLevel: 'silent' });
  const code = built.outputFiles[0]!.contents;
  // Inside the package (which a sandbox shows read-only), never in /tmp (which it replaces); named
  // by content, so every test process shares one file, written once and atomically.
  const dir = fileURLToPath(new URL('../../../node_modules/.cache/ansflow/', import.meta.url));
  const outfile = join(dir, `spawner-main-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(outfile)) {
    mkdirSync(dir, { recursive: true });
    const partial = `${outfile}.${process.pid}.tmp`;
    writeFileSync(partial, code);
    renameSync(partial, outfile);
  }
  return outfile;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
