/**
 * Resource limits of one launch through Linux control groups: memory, number of processes and CPU
 * share, in a cgroup of its own for the launch, removed after it. Both the unified hierarchy (v2)
 * and the split one (v1, each controller mounted apart) are handled; which one a machine has is
 * found once (`detectCgroups`). On v1 a launch joins a cpu cgroup only when it has a CPU limit:
 * a fresh cpu cgroup is a scheduling entity of its own, and forking into one cost several ms of
 * wall time on a busy machine (bench/sandbox.ts), for nothing when there is no limit to enforce.
 *
 * How a process enters its cgroup without a race: a process is born in its parent's cgroup, so
 * the spawner that forks the step is in the launch's cgroup at the fork (`adopt`) and leaves it
 * right after. Nothing the step starts can ever be outside it, and the step cannot move itself
 * out: it may not write to any cgroup file. Moving a process waits for an RCU grace period unless
 * one just passed (8-16 ms at load 12 here), so a run's sandbox moves its spawner *ahead*: into
 * the next launch's cgroup, while the current step runs (run-sandbox.ts); the fork itself then
 * needs no move.
 *
 * What ended a launch (`verdict`): the kernel counts OOM kills (memory.events / memory.oom_control)
 * and refused forks (pids.events). A refused fork does not end a process, so a fork bomb would spin
 * forever at the limit: `watch` notices the count and kills the cgroup.
 */
import { appendFile, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { formatSize } from '../../../domain/sizes.js';

export interface ResolvedLimits {
  memoryBytes: number | null;
  processes: number | null;
  /** CPU share in cores; null: no limit. */
  cpus: number | null;
  fileSizeBytes: number | null;
}

type Controller = 'memory' | 'pids' | 'cpu';

interface Hierarchy {
  version: 1 | 2;
  /** Folder under which launch cgroups are made, per controller (v2: one folder for all). */
  base: Record<Controller, string>;
}

export type CgroupSupport = { ok: true; cgroups: Cgroups } | { ok: false; reason: string };

/**
 * Finds a writable hierarchy with memory and pids controllers and makes AnsFlow's folder in it:
 * `ansflow-<pid>-<random>`, a name no other process ever had. A pid alone is not enough: pids are
 * reused (32768 of them by default), and a folder left by a process that was killed before it
 * could remove its cgroups would then hold launch folders of the same names as the new process's.
 * Folders of such dead processes are removed here (`removeStale`).
 */
export async function detectCgroups(name = `ansflow-${process.pid}-${randomBytes(4).toString('hex')}`): Promise<CgroupSupport> {
  try {
    const hierarchy = (await unified(name)) ?? (await split(name));
    if (!hierarchy) return { ok: false, reason: 'no writable cgroup hierarchy with the memory and pids controllers' };
    for (const base of new Set(Object.values(hierarchy.base))) await removeStale(dirname(base));
    return { ok: true, cgroups: new Cgroups(hierarchy) };
  } catch (error) {
    return { ok: false, reason: `cgroups unusable: ${(error as Error).message}` };
  }
}

async function unified(name: string): Promise<Hierarchy | null> {
  const root = '/sys/fs/cgroup';
  const controllers = await readFile(join(root, 'cgroup.controllers'), 'utf8').catch(() => null);
  if (controllers === null || !controllers.includes('memory') || !controllers.includes('pids')) return null;
  // A cgroup with processes may not hand controllers to children (v2's "no internal processes"
  // rule), so AnsFlow's folder hangs off the root, which is exempt.
  const wanted = ['memory', 'pids', ...(controllers.includes('cpu') ? ['cpu'] : [])];
  await writeFile(join(root, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '));
  const base = join(root, name);
  await mkdir(base, { recursive: true });
  await writeFile(join(base, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '));
  return { version: 2, base: { memory: base, pids: base, cpu: base } };
}

async function split(name: string): Promise<Hierarchy | null> {
  const own = ownV1Paths();
  const base = {} as Record<Controller, string>;
  for (const controller of ['memory', 'pids', 'cpu'] as const) {
    const mount = join('/sys/fs/cgroup', controller);
    if (!existsSync(join(mount, 'cgroup.procs'))) {
      if (controller === 'cpu') continue;
      return null;
    }
    base[controller] = join(mount, own[controller] ?? '/', name);
    await mkdir(base[controller], { recursive: true });
  }
  return { version: 1, base };
}

/** This process's v1 cgroup path per controller (`4:memory:/some/path`). */
function ownV1Paths(): Partial<Record<Controller, string>> {
  const out: Partial<Record<Controller, string>> = {};
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, list, path] = line.split(':');
    for (const controller of list?.split(',') ?? []) if (controller === 'memory' || controller === 'pids' || controller === 'cpu') out[controller] = path;
  }
  return out;
}

let serial = 0;

export class Cgroups {
  constructor(private readonly hierarchy: Hierarchy) {}

  get version(): 1 | 2 {
    return this.hierarchy.version;
  }

  /**
   * Makes a launch cgroup with these limits. Synchronous: making folders and writing limits are
   * kernel files that never wait (a round trip through the thread pool would cost more). Moving a
   * process (adopt, release) and removing a cgroup are not: they may wait for an RCU grace period
   * (the kernel's cgroup_threadgroup_rwsem), milliseconds on a busy machine, so they run in the
   * thread pool and never hold up the server's event loop.
   */
  create(limits: ResolvedLimits): LaunchCgroup {
    const cpu = this.hierarchy.version === 2 || limits.cpus !== null ? (['cpu'] as const) : [];
    return this.make(limits, ['memory', 'pids', ...cpu]);
  }

  /**
   * A cgroup of the cpu controller alone (v1), for a launch with a CPU limit whose memory and
   * process limits are in a cgroup made earlier (`create`, without cpu). Null on v2 and where
   * there is no cpu controller: there, `create`'s cgroup carries the CPU limit itself.
   */
  createCpu(limits: ResolvedLimits): LaunchCgroup | null {
    if (this.hierarchy.version === 2 || limits.cpus === null || this.hierarchy.base.cpu === undefined) return null;
    return this.make(limits, ['cpu']);
  }

  private make(limits: ResolvedLimits, wanted: readonly Controller[]): LaunchCgroup {
    const id = `l-${process.pid}-${++serial}`;
    const controllers = wanted.filter((c) => this.hierarchy.base[c] !== undefined);
    const group = new LaunchCgroup(this.hierarchy, id, limits, controllers);
    for (const dir of group.folders) mkdirSync(dir);
    try {
      group.applyLimits();
    } catch (error) {
      void group.remove();
      throw error;
    }
    return group;
  }

  /** Where a process is now, per controller, to put it back after a launch. */
  placeOf(pid: number): Placement {
    const text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    const procs: Placement['procs'] = {};
    if (this.hierarchy.version === 2) {
      const path = join('/sys/fs/cgroup', /^0::(.*)$/m.exec(text)?.[1] ?? '/', 'cgroup.procs');
      for (const controller of Object.keys(this.hierarchy.base) as Controller[]) procs[controller] = path;
      return { procs };
    }
    for (const line of text.split('\n')) {
      const [, list, path] = line.split(':');
      for (const controller of list?.split(',') ?? [])
        if (controller in this.hierarchy.base) procs[controller as Controller] = join('/sys/fs/cgroup', controller, path ?? '/', 'cgroup.procs');
    }
    return { procs };
  }

  /**
   * Removes AnsFlow's folder at shutdown, with the launch cgroups still in it that are empty
   * (those of launches that ended moments ago, whose removal had not come round yet).
   */
  async close(): Promise<void> {
    for (const base of new Set(Object.values(this.hierarchy.base))) await removeTree(base);
  }
}

/** The cgroup.procs file a process was in, per controller. */
export interface Placement {
  procs: Partial<Record<Controller, string>>;
}

export class LaunchCgroup {
  private current: ResolvedLimits;
  /** Tasks (threads) of the spawner, allowed beyond the process limit while it is in here. */
  private guests = 0;

  constructor(
    private readonly hierarchy: Hierarchy,
    private readonly id: string,
    limits: ResolvedLimits,
    /** The controllers this cgroup is made in: memory and pids, cpu, or all three. */
    readonly controllers: readonly Controller[],
  ) {
    this.current = limits;
  }

  /** The limits in force (`refit` changes them). */
  get limits(): ResolvedLimits {
    return this.current;
  }

  private dir(controller: Controller): string | undefined {
    const base = this.hierarchy.base[controller];
    return base === undefined || !this.controllers.includes(controller) ? undefined : join(base, this.id);
  }

  /** Its folders, one per hierarchy (v2: one). */
  get folders(): string[] {
    return [...new Set(this.controllers.map((c) => this.dir(c)).filter((d): d is string => d !== undefined))];
  }

  applyLimits(): void {
    const { memoryBytes, processes, cpus } = this.current;
    const v2 = this.hierarchy.version === 2;
    const memory = this.dir('memory');
    const pids = this.dir('pids');
    const cpu = this.dir('cpu');
    if (memory) {
      // -1 / max: a cgroup made for other limits may be given none.
      writeFileSync(join(memory, v2 ? 'memory.max' : 'memory.limit_in_bytes'), memoryBytes === null ? (v2 ? 'max' : '-1') : String(memoryBytes));
      // Without this the kernel would move the excess to swap and the step would crawl on.
      if (v2 && memoryBytes !== null) tryWrite(join(memory, 'memory.swap.max'), '0');
    }
    if (pids) writeFileSync(join(pids, 'pids.max'), processes === null ? 'max' : String(processes + this.guests));
    if (cpu) {
      const period = 100_000;
      const quota = cpus === null ? null : Math.max(1000, Math.round(cpus * period));
      if (v2) writeFileSync(join(cpu, 'cpu.max'), `${quota ?? 'max'} ${period}`);
      else {
        writeFileSync(join(cpu, 'cpu.cfs_period_us'), String(period));
        writeFileSync(join(cpu, 'cpu.cfs_quota_us'), String(quota ?? -1));
      }
    }
  }

  /**
   * Gives this cgroup, which no launch has used yet, other limits (those of its controllers: on
   * v1 a CPU limit is a cpu cgroup's of its own, `Cgroups.createCpu`).
   */
  refit(limits: ResolvedLimits): void {
    if (sameLimits(limits, this.current)) return;
    this.current = limits;
    this.applyLimits();
  }

  /**
   * The spawner waits in here for the next launch: its own tasks (threads) count against the
   * process limit until it leaves, so they are allowed on top of the limit meanwhile (`guests`).
   */
  hostSpawner(tasks: number): void {
    this.guests = tasks;
    if (this.current.processes !== null && this.dir('pids')) this.applyLimits();
  }

  /** The spawner has left: the process limit is the step's own again. */
  spawnerLeft(): void {
    if (this.guests === 0) return;
    this.guests = 0;
    if (this.current.processes !== null && this.dir('pids')) tryWrite(join(this.dir('pids')!, 'pids.max'), String(this.current.processes));
  }

  /** How many tasks (threads) are in it now (pids.current). */
  tasks(): number {
    const pids = this.dir('pids');
    return pids === undefined ? 0 : Number(readQuietly(join(pids, 'pids.current')).trim()) || 0;
  }

  /** Moves a process (with all its threads) into this cgroup. */
  async adopt(pid: number): Promise<void> {
    for (const dir of this.folders) await appendFile(join(dir, 'cgroup.procs'), String(pid));
  }

  /** Moves a process back where it was, for this cgroup's controllers (best effort). */
  async release(pid: number, placement: Placement): Promise<void> {
    const files = new Set(this.controllers.map((c) => placement.procs[c]).filter((f): f is string => f !== undefined));
    for (const procs of files) await appendFile(procs, String(pid)).catch(() => undefined);
  }

  /** The pids in this cgroup, as this server sees them. */
  async pids(): Promise<number[]> {
    const text = await readFile(join(this.folders[0]!, 'cgroup.procs'), 'utf8').catch(() => '');
    return text.split('\n').filter(Boolean).map(Number);
  }

  /** SIGKILLs everything in the cgroup, wherever it went (a new session, a new process group). */
  async killAll(): Promise<void> {
    if (this.hierarchy.version === 2) {
      const done = await writeFile(join(this.folders[0]!, 'cgroup.kill'), '1').then(
        () => true,
        () => false,
      );
      if (done) return;
    }
    // v1 has no cgroup.kill: signal each, twice, since a forking process can add one in between.
    for (let round = 0; round < 3; round++) {
      const pids = await this.pids();
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
  }

  /** Which limit, if any, the kernel enforced on this launch. */
  verdict(): string | undefined {
    const v2 = this.hierarchy.version === 2;
    const memory = this.dir('memory');
    const memoryEvents = memory === undefined ? '' : readQuietly(join(memory, v2 ? 'memory.events' : 'memory.oom_control'));
    if (counter(memoryEvents, 'oom_kill') > 0 && this.limits.memoryBytes !== null) return `memory limit ${formatSize(this.limits.memoryBytes)} exceeded`;
    if (this.forksRefused() > 0 && this.limits.processes !== null) return `process limit ${this.limits.processes} reached`;
    return undefined;
  }

  forksRefused(): number {
    const pids = this.dir('pids');
    return pids === undefined ? 0 : counter(readQuietly(join(pids, 'pids.events')), 'max');
  }

  /** Removes the cgroup once empty: what is still in it is killed, and the removal retried a while. */
  async remove(): Promise<void> {
    for (const dir of this.folders) {
      for (let attempt = 0, wait = 1; attempt < 40; attempt++, wait = Math.min(wait * 2, 100)) {
        try {
          await rmdir(dir);
          break;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== 'EBUSY') break;
          await this.killAll();
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    }
  }
}

export function sameLimits(a: ResolvedLimits, b: ResolvedLimits): boolean {
  return a.memoryBytes === b.memoryBytes && a.processes === b.processes && a.cpus === b.cpus && a.fileSizeBytes === b.fileSizeBytes;
}

function readQuietly(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function tryWrite(file: string, value: string): void {
  try {
    appendFileSync(file, value);
  } catch {
    // best effort: the caller's next step copes with a process left where it was
  }
}

function counter(text: string, name: string): number {
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

/** Removes the empty cgroup folders of `dir`'s subtree, deepest first, then `dir`; what is busy stays. */
async function removeTree(dir: string): Promise<void> {
  const children = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const child of children) if (child.isDirectory()) await removeTree(join(dir, child.name));
  await rmdir(dir).catch(() => undefined);
}

/**
 * Removes the folders of AnsFlow processes that are gone (`ansflow-<pid>-…` whose pid is not
 * running): a server killed with SIGKILL never removes its own. A folder whose pid is running
 * again in another process is left alone; its name can never be taken again anyway.
 */
async function removeStale(parent: string): Promise<void> {
  const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const pid = /^ansflow-(\d+)(?:-[0-9a-f]+)?$/.exec(entry.name)?.[1];
    if (!entry.isDirectory() || pid === undefined || pidIsRunning(Number(pid))) continue;
    await removeTree(join(parent, entry.name));
  }
}

function pidIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
