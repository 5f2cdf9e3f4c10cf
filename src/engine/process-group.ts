/**
 * Process-group helpers. Every step runs as the leader of its own process group (spawned with
 * `detached: true`), so signalling `-pgid` reaches the whole tree the step started, including
 * background children — unless a child called setsid() itself, which only cgroups could follow.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

/** Sends a signal to every process of a group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a group still has a member that is not a zombie. `kill(-pgid, 0)` alone is not enough:
 * when PID 1 does not reap orphans (minimal container inits), killed children linger as zombies
 * and would make the group look alive until the grace period ran out.
 */
export function groupIsAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true; // no procfs: trust kill(0)
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') return true;
  }
  return false;
}

/** Whether one process exists and is not a zombie (tests, and a run sandbox waiting for its end). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readStat(pid);
  return stat === null ? true : stat.state !== 'Z' && stat.state !== 'X';
}

function readStat(pid: number): { state: string; pgrp: number; startTime: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // The command name is in parentheses and may itself contain spaces or parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', pgrp: Number(fields[2]), startTime: fields[19] ?? '' };
}

/**
 * The kernel's start time of a process (clock ticks since boot), or null without procfs. With the
 * pid it identifies a process across pid reuse.
 */
export function processStartTime(pid: number): string | null {
  return readStat(pid)?.startTime ?? null;
}

/** How a process group is reached: directly by pgid, or through the sandbox that holds it. */
export interface GroupControl {
  signal(signal: NodeJS.Signals | 0): boolean | Promise<boolean>;
  alive(): boolean | Promise<boolean>;
}

/** A group in this process's own PID namespace. */
export function hostGroup(pgid: number): GroupControl {
  return { signal: (signal) => signalGroup(pgid, signal), alive: () => groupIsAlive(pgid) };
}

/**
 * SIGTERM the group, then SIGKILL whatever is still alive after `graceMs`. Resolves once the
 * group is gone (after SIGKILL, which cannot be ignored, it waits up to 2 s for the group to vanish).
 */
export async function terminateGroup(group: GroupControl, graceMs: number): Promise<void> {
  if (!(await group.signal('SIGTERM'))) return;
  // A stopped process would never act on SIGTERM; wake it so it can.
  await group.signal('SIGCONT');
  const deadline = Date.now() + graceMs;
  let wait = 5;
  while (Date.now() < deadline) {
    if (!(await group.alive())) return;
    await delay(Math.min(wait, Math.max(1, deadline - Date.now())));
    wait = Math.min(wait * 2, 100);
  }
  await group.signal('SIGKILL');
  // SIGKILL is delivered asynchronously: on a busy machine the processes linger for a moment.
  // Wait (bounded) until they are really gone, so "cancelled" means the tree is gone.
  const killDeadline = Date.now() + 2000;
  while ((await group.alive()) && Date.now() < killDeadline) await delay(5);
}
