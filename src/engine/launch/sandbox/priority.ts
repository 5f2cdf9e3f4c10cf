/**
 * Scheduling priority of a sandbox being made ahead of time. A warm sandbox (SandboxLauncher)
 * is started at the lowest priority (nice 19), so that starting it — bubblewrap and a Node
 * spawner, tens of milliseconds of CPU — takes only what running steps leave of the cores; once
 * it is ready (idle until a run takes it), or a run waits for it, every thread of it is set back
 * to normal, before any step is started from it (a child inherits the nice value of the thread that forks it, so steps must
 * never be started from a spawner still at 19).
 *
 * Only root may raise a priority again (CAP_SYS_NICE), so without root sandboxes start at normal
 * priority (`niceCommand` is then null).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

export const LOW_PRIORITY = 19;

/** argv prefix that starts a command at the lowest priority. */
export function lowPriorityPrefix(nice: string): string[] {
  return [nice, '-n', String(LOW_PRIORITY)];
}

/**
 * Sets every thread of `pid` and of all its descendants back to nice 0. Returns how many threads
 * were set; a process that ended meanwhile is skipped.
 */
export function restorePriority(pid: number): number {
  let count = 0;
  for (const process of [pid, ...descendants(pid)]) {
    for (const tid of threads(process)) {
      try {
        setPriority(tid, 0);
        count++;
      } catch {
        // ended meanwhile
      }
    }
  }
  return count;
}

/** The nice value of one process's main thread (tests). */
export function niceOf(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[16]);
}

function threads(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return [];
  }
}

function descendants(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const tid of threads(current)) {
      let children: number[] = [];
      try {
        children = readFileSync(`/proc/${current}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        // ended meanwhile
      }
      out.push(...children);
      queue.push(...children);
    }
  }
  return out;
}
