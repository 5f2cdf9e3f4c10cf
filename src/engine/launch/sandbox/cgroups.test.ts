import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectCgroups } from './cgroups.js';

/** Limits need cgroups this process may write (root, or a delegated subtree): say so loudly when not. */
async function cgroupsOrSkip(t: { skip(message: string): void }) {
  const found = await detectCgroups(`ansflow-test-${process.pid}`);
  if (found.ok) return found.cgroups;
  if (process.env.CI === 'true') assert.fail(`cgroups are required under CI: ${found.reason}`);
  process.stderr.write(`\n# SKIPPED cgroup tests: ${found.reason}\n`);
  t.skip(found.reason);
  return null;
}

function cgroupFolder(controller: string, pid: number): string | null {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.split(':')[1]?.split(',').includes(controller) || (l.startsWith('0::') && !existsSync(`/sys/fs/cgroup/${controller}`)));
  if (!line) return null;
  const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
  return existsSync(`/sys/fs/cgroup/${controller}`) ? join('/sys/fs/cgroup', controller, path) : join('/sys/fs/cgroup', path);
}

test('a launch cgroup carries the step limits, holds what is born in it, and is removed after', async (t) => {
  const cgroups = await cgroupsOrSkip(t);
  if (!cgroups) return;
  const group = cgroups.create({ memoryBytes: 64 * 1024 ** 2, processes: 32, cpus: 0.25, fileSizeBytes: null });
  const placement = cgroups.placeOf(process.pid);
  // Born inside: this process moves in, forks, and moves back, as the spawner does.
  await group.adopt(process.pid);
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  await group.release(process.pid, placement);
  try {
    const memory = cgroupFolder('memory', child.pid!)!;
    const pids = cgroupFolder('pids', child.pid!)!;
    assert.match(memory, /\/l-\d+-\d+$/, 'the child is in the launch cgroup');
    assert.notEqual(cgroupFolder('memory', process.pid), memory, 'the parent moved back out');
    const v2 = cgroups.version === 2;
    assert.equal(readFileSync(join(memory, v2 ? 'memory.max' : 'memory.limit_in_bytes'), 'utf8').trim(), String(64 * 1024 ** 2));
    assert.equal(readFileSync(join(pids, 'pids.max'), 'utf8').trim(), '32');
    const cpu = cgroupFolder('cpu', child.pid!);
    if (cpu) {
      const quota = v2 ? readFileSync(join(cpu, 'cpu.max'), 'utf8').trim() : readFileSync(join(cpu, 'cpu.cfs_quota_us'), 'utf8').trim();
      assert.match(quota, v2 ? /^25000 100000$/ : /^25000$/);
    }
    assert.deepEqual(await group.pids(), [child.pid]);
    assert.equal(group.verdict(), undefined, 'no limit was hit');
  } finally {
    await group.killAll();
    await group.remove();
    await cgroups.close();
  }
  if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(child.signalCode, 'SIGKILL', 'killAll ended what was in the cgroup');
});
