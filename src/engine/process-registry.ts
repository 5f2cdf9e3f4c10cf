/**
 * Remembers the process groups of running steps, so that after this process is killed (kill -9)
 * its next start can kill the step processes it left behind.
 *
 * The record is an append-only journal, `<dir>/journal`, with a line per event:
 *   `+ <runId> <stepId> <pid> <startTime>`   a step started a process group (pid = group id);
 *   `- <runId> <stepId>`                     the step ended: its groups are no longer ours to kill.
 * Appending a line costs microseconds where creating a file per process cost about 0.5 ms of each
 * step (ext4). The pid's start time (kernel clock ticks since boot) is kept with it: a pid reused
 * by an unrelated process is never killed. When the journal has grown well past the live entries
 * it is rewritten with just those (write to a temporary file, rename).
 *
 * One process writes a journal: each server or worker has its own data folder.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { processStartTime, signalGroup } from './process-group.js';

/** Rewrite the journal once this many lines were appended and they outnumber the live entries 4:1. */
const COMPACT_AFTER_LINES = 10_000;

interface Entry {
  runId: number;
  stepId: number;
  pid: number;
  startTime: string;
}

export class ProcessRegistry {
  private readonly path: string;
  private fd: number | null = null;
  /** Live entries by `<runId>-<stepId>`: this life's and those an earlier life left. */
  private readonly live = new Map<string, Entry[]>();
  private appended = 0;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.path = join(dir, 'journal');
    this.load();
  }

  track(runId: number, stepId: number, pid: number): void {
    const entry = { runId, stepId, pid, startTime: processStartTime(pid) ?? '' };
    this.add(entry);
    this.append(`+ ${runId} ${stepId} ${pid} ${entry.startTime}\n`);
  }

  untrackStep(runId: number, stepId: number): void {
    if (!this.live.delete(key(runId, stepId))) return;
    this.append(`- ${runId} ${stepId}\n`);
  }

  /** Kills the recorded groups still alive (pid and start time unchanged); returns the pids killed. */
  killOrphans(runIds?: Set<number>): number[] {
    const killed: number[] = [];
    for (const [k, entries] of this.live) {
      if (runIds && !runIds.has(entries[0]!.runId)) continue;
      for (const e of entries) if (isSameProcess(e) && signalGroup(e.pid, 'SIGKILL')) killed.push(e.pid);
      this.live.delete(k);
    }
    this.rewrite();
    return killed;
  }

  private add(entry: Entry): void {
    const k = key(entry.runId, entry.stepId);
    const entries = this.live.get(k);
    if (entries) entries.push(entry);
    else this.live.set(k, [entry]);
  }

  private append(line: string): void {
    try {
      this.fd ??= openSync(this.path, 'a', 0o600);
      writeSync(this.fd, line);
      this.appended += 1;
      if (this.appended > COMPACT_AFTER_LINES && this.appended > 4 * this.liveEntries().length) this.rewrite();
    } catch {
      // Best effort: losing this only weakens orphan cleanup after a crash.
    }
  }

  private liveEntries(): Entry[] {
    return [...this.live.values()].flat();
  }

  private rewrite(): void {
    try {
      const lines = this.liveEntries().map((e) => `+ ${e.runId} ${e.stepId} ${e.pid} ${e.startTime}\n`);
      writeFileSync(`${this.path}.tmp`, lines.join(''), { mode: 0o600 });
      renameSync(`${this.path}.tmp`, this.path);
      if (this.fd !== null) closeSync(this.fd);
      this.fd = null;
      this.appended = 0;
    } catch {
      // Best effort, as above; the old journal stays valid.
    }
  }

  /** Replays the journal. Entries whose process is gone are dropped: there is nothing left to kill. */
  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      const [op, run, step, pid, startTime] = line.split(' ');
      const runId = Number(run);
      const stepId = Number(step);
      if (!Number.isSafeInteger(runId) || !Number.isSafeInteger(stepId)) continue; // a line cut by a crash
      if (op === '+' && Number.isSafeInteger(Number(pid)) && Number(pid) > 0) this.add({ runId, stepId, pid: Number(pid), startTime: startTime ?? '' });
      else if (op === '-') this.live.delete(key(runId, stepId));
    }
    for (const [k, entries] of this.live) {
      const alive = entries.filter(isSameProcess);
      if (alive.length === 0) this.live.delete(k);
      else this.live.set(k, alive);
    }
  }
}

const key = (runId: number, stepId: number) => `${runId}-${stepId}`;

function isSameProcess(entry: Entry): boolean {
  if (entry.startTime === '') return false;
  return processStartTime(entry.pid) === entry.startTime;
}
