import { hostname } from 'node:os';
import { readableOutput } from '../runtime/logger.js';

/**
 * The start-up message: one block, printed whatever ANSFLOW_LOG_LEVEL is (it is not a log
 * message one may silence). On a terminal it is printed as it is, set apart by blank lines; for a
 * machine (stdout not a terminal) it is one JSON line shaped like pino's (level info), its message
 * the same block, so a log collector is never handed text that is not JSON.
 */
export function announce(lines: string[], fields: Record<string, unknown> = {}): void {
  const block = lines.join('\n');
  if (readableOutput()) console.log(`\n${block}\n`);
  else
    process.stdout.write(JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, hostname: hostname(), startup: true, ...fields, msg: block }) + '\n');
}
