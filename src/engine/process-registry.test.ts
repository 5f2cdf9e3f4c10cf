import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessRegistry } from './process-registry.js';
import { processIsAlive } from './process-group.js';

/** A detached `sleep` leading its own group, like a step's process; killed at the end of the test. */
function sleeper(t: { after(fn: () => void): void }): number {
  const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
  child.unref();
  const pid = child.pid!;
  t.after(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  return pid;
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && processIsAlive(pid); i++) await new Promise((r) => setTimeout(r, 10));
  return !processIsAlive(pid);
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-registry-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a later life kills the groups an earlier one tracked and never untracked, and only those', async (t) => {
  const dir = tempDir(t);
  const orphan = sleeper(t);
  const finished = sleeper(t);
  const earlier = new ProcessRegistry(dir);
  earlier.track(1, 10, orphan);
  earlier.track(2, 20, finished);
  earlier.untrackStep(2, 20);
  // The earlier life dies here without a word (kill -9): only its journal is left.
  const killed = new ProcessRegistry(dir).killOrphans();
  assert.deepEqual(killed, [orphan]);
  assert.equal(await gone(orphan), true);
  assert.equal(processIsAlive(finished), true);
  assert.deepEqual(new ProcessRegistry(dir).killOrphans(), [], 'the journal no longer lists what was killed');
});

test('killOrphans(runIds) kills only those runs’ groups; the others stay recorded', async (t) => {
  const dir = tempDir(t);
  const a = sleeper(t);
  const b = sleeper(t);
  const earlier = new ProcessRegistry(dir);
  earlier.track(1, 10, a);
  earlier.track(2, 20, b);
  const later = new ProcessRegistry(dir);
  assert.deepEqual(later.killOrphans(new Set([1])), [a]);
  assert.equal(processIsAlive(b), true);
  assert.deepEqual(new ProcessRegistry(dir).killOrphans(new Set([2])), [b]);
});

test('a pid now used by another process (different start time) is never killed', async (t) => {
  const dir = tempDir(t);
  const stranger = sleeper(t);
  appendFileSync(join(dir, 'journal'), `+ 1 10 ${stranger} 1\n`);
  assert.deepEqual(new ProcessRegistry(dir).killOrphans(), []);
  assert.equal(processIsAlive(stranger), true);
});

test('a line cut short by a crash is ignored, the lines before it still count', async (t) => {
  const dir = tempDir(t);
  const orphan = sleeper(t);
  new ProcessRegistry(dir).track(1, 10, orphan);
  appendFileSync(join(dir, 'journal'), '+ 1 1');
  assert.deepEqual(new ProcessRegistry(dir).killOrphans(), [orphan]);
});

test('the journal is compacted: thousands of finished steps leave it small', async (t) => {
  const dir = tempDir(t);
  const live = sleeper(t);
  const registry = new ProcessRegistry(dir);
  registry.track(1, 1, live);
  for (let step = 2; step < 6_002; step++) {
    registry.track(1, step, live);
    registry.untrackStep(1, step);
  }
  assert.ok(statSync(join(dir, 'journal')).size < 100_000, `journal is ${statSync(join(dir, 'journal')).size} bytes`);
  const lines = readFileSync(join(dir, 'journal'), 'utf8').trim().split('\n');
  assert.ok(
    lines.some((line) => line.startsWith(`+ 1 1 ${live} `)),
    'the live entry survives compaction',
  );
  assert.deepEqual(new ProcessRegistry(dir).killOrphans(), [live]);
});
