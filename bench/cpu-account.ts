/**
 * CPU time of a group of processes and everything they start, for benchmarks on a busy machine:
 * wall times there stretch with the load (other processes get the cores), CPU time much less, so
 * a difference in CPU time per step is what the code costs, whatever the machine was doing.
 *
 * Uses a cgroup v1 `cpuacct` hierarchy of its own (not mounted together with `cpu`): AnsFlow moves
 * step processes between memory, pids and cpu cgroups (their limits), never between cpuacct ones,
 * so a server put in an account here stays counted with its spawners, sandboxes and steps. Where
 * there is no such hierarchy (cgroup v2, or cpu and cpuacct mounted together), `open` returns
 * null and the benchmark prints "n/a".
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, readlinkSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup/cpuacct';

export class CpuAccount {
  private constructor(
    private readonly dir: string,
    private readonly home: string,
  ) {}

  /** A new account, or null when CPU time cannot be counted this way here. */
  static open(name: string): CpuAccount | null {
    try {
      if (!existsSync(join(ROOT, 'cpuacct.usage'))) return null;
      // Mounted together with cpu ("cpu,cpuacct"): the sandbox's cpu limits would move steps out.
      const target = existsSync(ROOT) ? readlinkSafe(ROOT) : null;
      if (target?.includes('cpu,') || existsSync(join(ROOT, 'cpu.shares'))) return null;
      const own = /^\d+:cpuacct:(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '/';
      const home = join(ROOT, own);
      const dir = join(home, `${name}-${process.pid}`);
      mkdirSync(dir, { recursive: true });
      return new CpuAccount(dir, home);
    } catch {
      return null;
    }
  }

  /** Counts this process (and what it starts from now on) here. */
  add(pid: number): void {
    appendFileSync(join(this.dir, 'cgroup.procs'), String(pid));
  }

  /** Counts `pid` where it was before (its parent's account). */
  leave(pid: number): void {
    appendFileSync(join(this.home, 'cgroup.procs'), String(pid));
  }

  /** CPU time used so far by everything counted here, in ms. */
  usageMs(): number {
    return Number(readFileSync(join(this.dir, 'cpuacct.usage'), 'utf8').trim()) / 1e6;
  }

  /** The account's folder goes once nothing is left in it. */
  close(): void {
    try {
      rmdirSync(this.dir);
    } catch {
      // still in use (a process not yet reaped); the next boot clears it
    }
  }
}

function readlinkSafe(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}
