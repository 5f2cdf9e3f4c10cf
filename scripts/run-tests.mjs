#!/usr/bin/env node
// Runs the test suites with Node's own test runner (TypeScript through tsx).
//   node scripts/run-tests.mjs            unit + end-to-end tests (what `npm test` runs)
//   node scripts/run-tests.mjs --browser  the Playwright/Chromium UI tests (test/browser)
//   node scripts/run-tests.mjs FILE...    only these files
// Node 20 has no glob support in --test, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const browser = args.includes('--browser');
const explicit = args.filter((a) => !a.startsWith('--'));

function walk(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (/\.test\.tsx?$/.test(name)) out.push(path);
  }
  return out;
}

let files;
if (explicit.length > 0) files = explicit;
else if (browser) files = walk('test/browser');
else files = [...walk('src'), ...walk(join('web', 'src')), ...walk('test').filter((f) => !f.startsWith(join('test', 'browser')))];
files.sort();

if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}

const concurrency = process.env.ANSFLOW_TEST_CONCURRENCY ?? (browser ? '1' : '2');
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'test' },
});
process.exit(result.status ?? 1);
