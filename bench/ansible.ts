/**
 * Ansible per-host results benchmark (issue 12, Performance), side by side in one run:
 *
 *   plain    `ansible-playbook` on H hosts (`ansible_connection=local` aliases) × T tasks, spawned
 *            from this process, output read and discarded: what Ansible costs alone;
 *   AnsFlow  the same playbook and inventory (a stored inventory) as a pipeline step through the
 *            real worker (SQLite, sandbox off, in this process): the events callback, the tail,
 *            masking, storage in ansible_events and publishing on the event bus.
 *
 * Reported: wall time of each (AnsFlow: the step's started_at → finished_at), their ratio (target
 * ≤ 1.2), and the delay from Ansible writing a per-host result (the event's `at`) to the event
 * bus delivering it (target: the first within 1 s), plus how many events were stored. Runs
 * alternate plain / AnsFlow `--rounds` times; medians are shown.
 *
 *   node --import tsx bench/ansible.ts [--hosts 200] [--tasks 10] [--rounds 3]
 *
 * Exits non-zero only when something broke (a run that did not succeed, events missing).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/runtime/logger.js';
import { createContext } from '../src/runtime/context.js';
import { startWorker } from '../src/runtime/worker.js';
import { inventoriesOf } from '../src/runtime/inventories.js';
import { AnsibleEventsRepository } from '../src/store/ansible-events-repository.js';
import { median } from './stats.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const HOSTS = arg('hosts', 200);
const TASKS = arg('tasks', 10);
const ROUNDS = arg('rounds', 3);

const inventory = `[all]\n${Array.from({ length: HOSTS }, (_, i) => `h${i + 1} ansible_connection=local ansible_python_interpreter=/usr/bin/python3`).join('\n')}\n`;
const playbook = `- hosts: all\n  gather_facts: false\n  tasks:\n${Array.from({ length: TASKS }, (_, i) => `    - name: task ${i + 1}\n      debug: { msg: "{{ inventory_hostname }} ${i + 1}" }\n`).join('')}`;

async function plain(dir: string): Promise<number> {
  writeFileSync(join(dir, 'inventory.ini'), inventory);
  writeFileSync(join(dir, 'site.yml'), playbook);
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('ansible-playbook', ['-i', 'inventory.ini', 'site.yml'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, ANSIBLE_HOME: join(dir, '.ansible'), ANSIBLE_NOCOLOR: '1', PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.resume();
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`ansible-playbook exited ${code}`))));
  });
  return performance.now() - started;
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'ansflow-bench-ansible-'));
  const config = loadConfig({ NODE_ENV: 'production', ANSFLOW_DATA_DIR: dataDir, ANSFLOW_LOG_LEVEL: 'warn', ANSFLOW_SANDBOX: 'off' });
  const ctx = await createContext(config, createLogger(config.logLevel));
  await ctx.users.ensureAdmin('bench-admin-1');
  const admin = (await ctx.repos.users.findByUsername('admin'))!;
  const actor = { id: admin.id, username: admin.username, role: admin.role };
  const worker = await startWorker(ctx);
  const delays: number[] = [];
  let firstDelay: number | null = null;
  ctx.events.subscribeAll(() => undefined);
  try {
    await inventoriesOf(ctx).service.create(actor, { name: 'bench', format: 'ini', content: inventory });
    const pipeline = await ctx.pipelines.create(actor, {
      name: 'ansible-bench',
      steps: [
        { name: 'prepare', type: 'shell_command', config: { command: `cat > site.yml <<'YAML'\n${playbook}\nYAML` } },
        { name: 'deploy', type: 'ansible_playbook', config: { playbook: 'site.yml', inventory_name: 'bench' } },
      ],
    });
    const plainMs: number[] = [];
    const ansflowMs: number[] = [];
    const stored: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const dir = mkdtempSync(join(tmpdir(), 'ansflow-bench-plain-'));
      try {
        plainMs.push(await plain(dir));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const run = await ctx.runs.trigger(actor, { pipelineId: pipeline.id, trigger: { type: 'manual', user: { id: actor.id, username: actor.username } } });
      let first = true;
      const unsubscribe = ctx.events.subscribeRun(run.id, (event) => {
        if (event.type !== 'ansible') return;
        const now = Date.now();
        for (const e of event.events) {
          if (e.kind !== 'host') continue;
          const delay = now - Date.parse(e.at);
          delays.push(delay);
          if (first && round === 0) firstDelay = delay;
          first = false;
        }
      });
      let done = await ctx.repos.runs.findById(run.id);
      while (done && !['success', 'failed', 'error', 'cancelled', 'timeout'].includes(done.status)) {
        await new Promise((r) => setTimeout(r, 100));
        done = await ctx.repos.runs.findById(run.id);
      }
      unsubscribe();
      if (done?.status !== 'success') throw new Error(`the AnsFlow run ended ${done?.status}: ${done?.error_reason}`);
      const step = done.steps.find((s) => s.name === 'deploy')!;
      ansflowMs.push(Date.parse(step.finished_at!) - Date.parse(step.started_at!));
      const events = await new AnsibleEventsRepository(ctx.db.kysely).forStep(run.id, step.id);
      stored.push(events.filter((e) => e.kind === 'host').length);
      if (stored[stored.length - 1] !== HOSTS * TASKS) throw new Error(`stored ${stored[stored.length - 1]} host results, expected ${HOSTS * TASKS}`);
      // Each round as it ends: at 200 hosts a round takes many minutes on a loaded machine.
      process.stderr.write(
        `# round ${round + 1}: plain ${(plainMs[round]! / 1000).toFixed(1)} s, AnsFlow ${(ansflowMs[round]! / 1000).toFixed(1)} s (${(ansflowMs[round]! / plainMs[round]!).toFixed(2)}x), first result → bus ${round === 0 ? firstDelay : '-'} ms, load ${loadavg()[0]!.toFixed(1)}\n`,
      );
    }
    const p = median(plainMs);
    const a = median(ansflowMs);
    const sorted = [...delays].sort((x, y) => x - y);
    const pct = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
    console.log(
      `\nAnsible: ${HOSTS} hosts × ${TASKS} tasks (ansible_connection=local), ${ROUNDS} rounds alternating; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log('| measure | plain ansible-playbook | AnsFlow step (events + storage) | ratio / target |');
    console.log('| --- | --- | --- | --- |');
    console.log(`| wall time, median | ${(p / 1000).toFixed(2)} s | ${(a / 1000).toFixed(2)} s | ${(a / p).toFixed(2)}x (≤ 1.2x) |`);
    console.log(`| per-host results stored per run | — | ${stored.join(', ')} | ${HOSTS * TASKS} expected |`);
    console.log(`| first result: written → event bus | — | ${firstDelay ?? 'n/a'} ms | ≤ 1000 ms |`);
    console.log(`| every result: written → event bus, p50 / p99 / max | — | ${pct(0.5)} / ${pct(0.99)} / ${sorted[sorted.length - 1]} ms | — |`);
  } finally {
    await worker.stop(0);
    await ctx.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
