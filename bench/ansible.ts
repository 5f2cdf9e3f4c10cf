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
 *   node --import tsx bench/ansible.ts [--hosts 200] [--tasks 10] [--rounds 3] [--forks N]
 *
 * `--forks N` is given to both sides (default: Ansible's, 5). Each round prints as it ends, with
 * where the AnsFlow step's time went (before Ansible's first event, the events' span, after it),
 * and the CPU time of each side (this process and everything it starts, bench/cpu-account.ts):
 * at load, wall times stretch with the machine; CPU time says what each side costs.
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
import { CpuAccount } from './cpu-account.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const HOSTS = arg('hosts', 200);
const TASKS = arg('tasks', 10);
const ROUNDS = arg('rounds', 3);
/** Hosts at once, given to both sides (`--forks`); 0 leaves Ansible's default (5) on both. */
const FORKS = arg('forks', 0);
const forksArgs = FORKS > 0 ? [`--forks=${FORKS}`] : [];

const inventory = `[all]\n${Array.from({ length: HOSTS }, (_, i) => `h${i + 1} ansible_connection=local ansible_python_interpreter=/usr/bin/python3`).join('\n')}\n`;
const playbook = `- hosts: all\n  gather_facts: false\n  tasks:\n${Array.from({ length: TASKS }, (_, i) => `    - name: task ${i + 1}\n      debug: { msg: "{{ inventory_hostname }} ${i + 1}" }\n`).join('')}`;

async function plain(dir: string): Promise<number> {
  writeFileSync(join(dir, 'inventory.ini'), inventory);
  writeFileSync(join(dir, 'site.yml'), playbook);
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('ansible-playbook', ['-i', 'inventory.ini', ...forksArgs, 'site.yml'], {
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

/** CPU time of this process and all it starts (plain Ansible; the worker, its spawner and the step's Ansible), or null where it cannot be counted. */
const account = CpuAccount.open('ansflow-bench-ansible');
account?.add(process.pid);
const cpuMs = () => account?.usageMs() ?? NaN;

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
        { name: 'deploy', type: 'ansible_playbook', config: { playbook: 'site.yml', inventory_name: 'bench', ...(FORKS > 0 && { forks: FORKS }) } },
      ],
    });
    const plainMs: number[] = [];
    const ansflowMs: number[] = [];
    const stored: number[] = [];
    // Where the AnsFlow step's time goes: before Ansible's first event, Ansible's own span (first
    // event → last, as the callback stamped them), after its last event.
    const before: number[] = [];
    const span: number[] = [];
    const afterLast: number[] = [];
    const plainCpu: number[] = [];
    const ansflowCpu: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const dir = mkdtempSync(join(tmpdir(), 'ansflow-bench-plain-'));
      try {
        const cpu = cpuMs();
        plainMs.push(await plain(dir));
        plainCpu.push(cpuMs() - cpu);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const cpuBefore = cpuMs();
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
      // (includes the prepare step's shell and the run's bookkeeping: small next to Ansible)
      ansflowCpu.push(cpuMs() - cpuBefore);
      if (done?.status !== 'success') throw new Error(`the AnsFlow run ended ${done?.status}: ${done?.error_reason}`);
      const step = done.steps.find((s) => s.name === 'deploy')!;
      ansflowMs.push(Date.parse(step.finished_at!) - Date.parse(step.started_at!));
      const events = await new AnsibleEventsRepository(ctx.db.kysely).forStep(run.id, step.id);
      stored.push(events.filter((e) => e.kind === 'host').length);
      const stepStart = Date.parse(step.started_at!);
      const stepEnd = Date.parse(step.finished_at!);
      const firstAt = Date.parse(events[0]!.at);
      const lastAt = Date.parse(events[events.length - 1]!.at);
      before.push(firstAt - stepStart);
      span.push(lastAt - firstAt);
      afterLast.push(stepEnd - lastAt);
      if (stored[stored.length - 1] !== HOSTS * TASKS) throw new Error(`stored ${stored[stored.length - 1]} host results, expected ${HOSTS * TASKS}`);
      // Each round as it ends: at 200 hosts a round takes many minutes on a loaded machine.
      process.stderr.write(
        `# round ${round + 1}: plain ${(plainMs[round]! / 1000).toFixed(1)} s, AnsFlow ${(ansflowMs[round]! / 1000).toFixed(1)} s (${(ansflowMs[round]! / plainMs[round]!).toFixed(2)}x), first result → bus ${round === 0 ? firstDelay : '-'} ms; AnsFlow step: ${(before[round]! / 1000).toFixed(1)} s to Ansible's first event, ${(span[round]! / 1000).toFixed(1)} s first → last event, ${(afterLast[round]! / 1000).toFixed(1)} s after it; CPU plain ${(plainCpu[round]! / 1000).toFixed(1)} s, AnsFlow ${(ansflowCpu[round]! / 1000).toFixed(1)} s (${(ansflowCpu[round]! / plainCpu[round]!).toFixed(2)}x); load ${loadavg()[0]!.toFixed(1)}\n`,
      );
    }
    const p = median(plainMs);
    const a = median(ansflowMs);
    const sorted = [...delays].sort((x, y) => x - y);
    const pct = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
    console.log(
      `\nAnsible: ${HOSTS} hosts × ${TASKS} tasks (ansible_connection=local), forks ${FORKS || 'default (5)'} on both, ${ROUNDS} rounds alternating; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log('| measure | plain ansible-playbook | AnsFlow step (events + storage) | ratio / target |');
    console.log('| --- | --- | --- | --- |');
    console.log(`| wall time, median | ${(p / 1000).toFixed(2)} s | ${(a / 1000).toFixed(2)} s | ${(a / p).toFixed(2)}x (≤ 1.2x) |`);
    const pc = median(plainCpu);
    const ac = median(ansflowCpu);
    console.log(`| CPU time (this process and all it starts), median | ${(pc / 1000).toFixed(2)} s | ${(ac / 1000).toFixed(2)} s | ${(ac / pc).toFixed(2)}x |`);
    console.log(
      `| AnsFlow step: to the first event / first → last event / after the last, median | — | ${[before, span, afterLast].map((x) => (median(x) / 1000).toFixed(2)).join(' / ')} s | — |`,
    );
    console.log(`| per-host results stored per run | — | ${stored.join(', ')} | ${HOSTS * TASKS} expected |`);
    console.log(`| first result: written → event bus | — | ${firstDelay ?? 'n/a'} ms | ≤ 1000 ms |`);
    console.log(`| every result: written → event bus, p50 / p99 / max | — | ${pct(0.5)} / ${pct(0.99)} / ${sorted[sorted.length - 1]} ms | — |`);
  } finally {
    await worker.stop(0);
    await ctx.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (account) {
      account.leave(process.pid);
      account.close();
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
