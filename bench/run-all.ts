/**
 * `npm run bench`: runs every benchmark script in bench/ (each `*.ts` except this one and the shared modules
 * in NOT_BENCHMARKS), one after another,
 * each in its own process with its default settings. Exits non-zero if any of them failed.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const self = fileURLToPath(import.meta.url);
/**
 * Modules in bench/ that benchmarks import (not benchmarks themselves), the soak (20 minutes: run
 * it on its own) and diagnostics that take a benchmark apart.
 */
const NOT_BENCHMARKS = new Set([
  'bench-server.ts',
  'stats.ts',
  'load-options.ts',
  'soak.ts',
  'audit-profile.ts',
  'audit-servers.ts',
  'audit-process-server.ts',
]);
const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.startsWith('_') && !NOT_BENCHMARKS.has(f) && join(here, f) !== self)
  .sort();

const failed: string[] = [];
for (const script of scripts) {
  console.log(`\n=== bench/${script} ===`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, script)], { stdio: 'inherit', cwd: join(here, '..') });
  if (result.status !== 0) failed.push(`${script} (${result.signal ?? `exit ${result.status}`})`);
}
if (failed.length > 0) {
  console.error(`\nbenchmarks that failed: ${failed.join(', ')}`);
  process.exitCode = 1;
} else {
  console.log(`\nall ${scripts.length} benchmark(s) finished`);
}
