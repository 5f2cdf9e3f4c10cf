import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { detectCgroups } from './cgroups.js';

/** Limits need cgroups this process may write (root, or a delegated subtree): say so loudly when not. */
async function cgroupsOrSkip(t: { skip(message: string): void }) {
  const found = await detectCgroups();
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

test('folders are never shared with an earlier process of the same pid, and those of dead processes are removed', async (t) => {
  const first = await cgroupsOrSkip(t);
  if (!first) return;
  const group = first.create({ memoryBytes: null, processes: null, cpus: null, fileSizeBytes: null });
  const base = dirname(group.folders[0]!);
  assert.match(base, new RegExp(`/ansflow-${process.pid}-[0-9a-f]{8}$`));
  // A process killed with SIGKILL leaves its folder, launch folders inside: a pid no process has
  // (pid_max is at most 2^22) stands for it.
  const deadPid = 2 ** 22 + 7;
  const leftovers = group.folders.map((dir) => join(dirname(dirname(dir)), `ansflow-${deadPid}-0badc0de`, `l-${deadPid}-1`));
  for (const dir of leftovers) mkdirSync(dir, { recursive: true });
  const second = await cgroupsOrSkip(t);
  try {
    const other = second!.create({ memoryBytes: null, processes: null, cpus: null, fileSizeBytes: null });
    assert.notEqual(dirname(other.folders[0]!), base, 'a second hierarchy user of this process gets a folder of its own');
    for (const dir of leftovers) assert.equal(existsSync(dirname(dir)), false, `${dirname(dir)} of a dead process was removed`);
    await other.remove();
  } finally {
    await second!.close();
  }
  // Closing removes the folder even with a launch folder still in it (an ended launch whose
  // removal had not come round yet).
  assert.equal(existsSync(group.folders[0]!), true);
  await first.close();
  assert.equal(existsSync(base), false);
});
