/**
 * Watches every process's command line (/proc/<pid>/cmdline) while a test runs, to prove that a
 * secret never appears in argv, where any user of the machine could read it.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface CommandLineWatch {
  /** Every distinct command line seen (arguments joined with spaces). */
  stop(): string[];
}

export function watchCommandLines(everyMs = 5): CommandLineWatch {
  const seen = new Set<string>();
  const sample = () => {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const line = readFileSync(`/proc/${entry}/cmdline`).toString('utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
        if (line) seen.add(line);
      } catch {
        // the process ended meanwhile
      }
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return [...seen];
    },
  };
}
