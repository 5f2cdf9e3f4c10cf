#!/usr/bin/env node
// Builds what is older than its sources, and nothing else: `npm start` (prestart) and `npm install`
// (prepare) run this, so a start with nothing changed since the last build costs no build.
//   server: dist/ from src/ (tsc -p tsconfig.build.json)
//   web:    web/dist/ from web/ (vite build)
// A part is stale when its stamp (written after its build succeeded) is missing or older than the
// newest file among its inputs (mtimes: a checkout, an edit or a `git pull` makes files newer).
//   node scripts/build-if-stale.mjs           build the stale parts
//   node scripts/build-if-stale.mjs --check   print which parts are stale, build nothing
//   node scripts/build-if-stale.mjs --force   build both (npm run build)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SKIP = new Set(['node_modules', 'dist', '.git']);

function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs; // a deleted file makes its folder newer
  for (const name of readdirSync(path)) if (!SKIP.has(name)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

const PARTS = [
  {
    name: 'server',
    inputs: ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'],
    stamp: 'dist/.build-stamp',
    command: ['npx', ['tsc', '-p', 'tsconfig.build.json']],
  },
  {
    name: 'web',
    inputs: ['web', 'package.json', 'package-lock.json'],
    stamp: 'web/dist/.build-stamp',
    command: ['npx', ['vite', 'build', '--config', 'web/vite.config.ts']],
  },
];

const force = process.argv.includes('--force');
const stale = PARTS.filter((part) => {
  if (force) return true;
  const built = existsSync(part.stamp) ? statSync(part.stamp).mtimeMs : 0;
  return part.inputs.some((input) => newest(input) > built);
});

if (process.argv.includes('--check')) {
  console.log(stale.length === 0 ? 'up to date' : `stale: ${stale.map((p) => p.name).join(', ')}`);
  process.exit(0);
}
for (const part of stale) {
  console.error(`build-if-stale: building ${part.name} (sources are newer than the last build)`);
  const started = Date.now();
  const r = spawnSync(part.command[0], part.command[1], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  // Stamped when the build ended (the build itself makes folders among the inputs newer, web/dist in web/).
  writeFileSync(part.stamp, `built ${new Date(started).toISOString()} in ${Date.now() - started} ms\n`);
}
