/**
 * Remembers the process groups of running steps in files (`<dir>/<runId>-<stepId>-<pid>`), so that
 * after this process is killed (kill -9) the next start can kill the orphaned step processes.
 * The pid's start time is stored with it: a pid reused by an unrelated process is never killed.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processStartTime, signalGroup } from './process-group.js';

export class ProcessRegistry {
  /** Files written by this process, by `<runId>-<stepId>`: untracking needs no directory listing. */
  private readonly mine = new Map<string, string[]>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  track(runId: number, stepId: number, pid: number): void {
    const startTime = processStartTime(pid);
    const name = `${runId}-${stepId}-${pid}`;
    try {
      writeFileSync(join(this.dir, name), startTime ?? '');
      const key = `${runId}-${stepId}`;
      this.mine.set(key, [...(this.mine.get(key) ?? []), name]);
    } catch {
      // Best effort: losing this only weakens orphan cleanup after a crash.
    }
  }

  untrackStep(runId: number, stepId: number): void {
    const key = `${runId}-${stepId}`;
    for (const name of this.mine.get(key) ?? []) rmSync(join(this.dir, name), { force: true });
    this.mine.delete(key);
  }

  /** Kills the recorded groups still alive (pid and start time unchanged); returns the pids killed. */
  killOrphans(runIds?: Set<number>): number[] {
    const killed: number[] = [];
    for (const name of this.entries()) {
      const [run, , pid] = name.split('-').map(Number);
      if (runIds && !runIds.has(run!)) continue;
      let recorded = '';
      try {
        recorded = readFileSync(join(this.dir, name), 'utf8');
      } catch {
        continue;
      }
      const now = processStartTime(pid!);
      if (now !== null && recorded !== '' && now === recorded && signalGroup(pid!, 'SIGKILL')) killed.push(pid!);
      rmSync(join(this.dir, name), { force: true });
    }
    return killed;
  }

  private entries(): string[] {
    try {
      return readdirSync(this.dir).filter((n) => /^\d+-\d+-\d+$/.test(n));
    } catch {
      return [];
    }
  }
}
