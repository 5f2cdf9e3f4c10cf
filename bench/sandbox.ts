/**
 * What the step sandbox costs, measured on the built code (dist/, what the server runs):
 *
 *   1. set-up per run   a cold RunSandbox.prepare (folders, bubblewrap, the spawner inside, ready;
 *                       started by the host's spawner, as the server does) and its close, against
 *                       starting the unsandboxed spawner, and against the same set-up with the Node
 *                       spawner inside (the fallback of spawner.pl); wall time and CPU time (of
 *                       this process and everything it starts, bench/cpu-account.ts);
 *   2. per launch       `bash -e -c true` to its exit with its output read: spawned directly from
 *                       this process, through the unsandboxed spawner, and through a run's sandbox
 *                       (with and without its cgroup limits); alternated, so load hits them alike;
 *   3. network: none    the same launch in a network namespace of its own.
 *
 *   npm run build && node --import tsx bench/sandbox.ts [--no-doc] [--dist path/to/dist]
 *
 * Prints one table; writes it into the "Sandbox (bench/sandbox.ts)" section of docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';
import { writeDocSection } from './bench-server.js';
import { CpuAccount } from './cpu-account.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// --dist: another build (an A/B against a copy of dist/); it implies --no-doc.
const distArg = process.argv.indexOf('--dist');
const DIST = join(distArg > 0 ? resolve(process.argv[distArg + 1]!) : join(ROOT, 'dist'), 'engine', 'launch');
if (!existsSync(join(DIST, 'sandbox', 'run-sandbox.js'))) throw new Error('dist/ is missing or old: run `npm run build` first');
const { SpawnerLauncher } = (await import(join(DIST, 'spawner-launcher.js'))) as typeof import('../src/engine/launch/spawner-launcher.js');
const { RunSandbox } = (await import(join(DIST, 'sandbox', 'run-sandbox.js'))) as typeof import('../src/engine/launch/sandbox/run-sandbox.js');
const { prepareSandbox } = (await import(join(DIST, 'sandbox', 'sandbox-settings.js'))) as typeof import('../src/engine/launch/sandbox/sandbox-settings.js');
type Launcher = { launch: InstanceType<typeof SpawnerLauncher>['launch'] };

const writeDoc = !process.argv.includes('--no-doc') && distArg < 0;
const ROUNDS = 5;
const LAUNCHES = 60;
const SETUPS = 10;

const root = mkdtempSync(join(tmpdir(), 'ansflow-bench-sandbox-'));
const workspaces = join(root, 'workspaces');
const limits = { memoryBytes: 2 * 1024 ** 3, processes: 1024, cpus: null, fileSizeBytes: 8 * 1024 ** 3 };
const state = await prepareSandbox({
  enabled: true,
  dataDir: root,
  workspaceRoot: workspaces,
  uid: 61000,
  defaults: limits,
  tmpBytes: 1024 ** 3,
  extraHidden: [],
});
if (state.mode !== 'on' || !state.available) throw new Error(`the sandbox is not available here: ${JSON.stringify(state)}`);
const settings = state.settings;
const shape = { workspaceRoot: workspaces, readOnlyPaths: [], fileSizeBytes: limits.fileSizeBytes };
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

const direct = () =>
  new Promise<void>((done, fail) => {
    const child = spawn('bash', ['-e', '-c', 'true'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
    child.stdout!.resume();
    child.stderr!.resume();
    child.once('error', fail);
    child.once('close', () => done());
  });

async function launchOnce(launcher: Launcher, cwd: string, scope?: { runId: number; network?: 'none' }) {
  const launched = await launcher.launch({ file: 'bash', args: ['-e', '-c', 'true'], cwd, env, ...(scope && { scope }) });
  const ended = new Promise((done) => launched.output.once('close', done));
  launched.output.resume();
  await Promise.all([launched.exit, ended]);
}

async function msPer(once: () => Promise<void>, n: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await once();
  return Number(process.hrtime.bigint() - start) / n / 1e6;
}

// 1. Set-up per run. CPU time counts this process and everything it starts.
const account = CpuAccount.open('ansflow-bench-sandbox');
account?.add(process.pid);
const cpuNow = () => account?.usageMs() ?? NaN;
const host = new SpawnerLauncher();
await host.warmUp();
const cold: number[] = [];
const coldCpu: number[] = [];
const closing: number[] = [];
const closingCpu: number[] = [];
// The same set-up with the Node spawner inside (the fallback where perl cannot run spawner.pl),
// alternated with the configured one so that load hits both alike.
const nodeSettings = { ...settings, spawner: { kind: 'node' as const, reason: 'benchmark' } };
const coldNode: number[] = [];
const coldNodeCpu: number[] = [];
for (let i = 0; i < 2 * SETUPS; i++) {
  const node = i % 2 === 1;
  const [t0, c0] = [process.hrtime.bigint(), cpuNow()];
  const sandbox = await RunSandbox.prepare(node ? nodeSettings : settings, shape, { starter: host });
  (node ? coldNode : cold).push(Number(process.hrtime.bigint() - t0) / 1e6);
  (node ? coldNodeCpu : coldCpu).push(cpuNow() - c0);
  const [t1, c1] = [process.hrtime.bigint(), cpuNow()];
  await sandbox.discard();
  if (node) continue;
  closing.push(Number(process.hrtime.bigint() - t1) / 1e6);
  closingCpu.push(cpuNow() - c1);
}
const spawnerStart: number[] = [];
const spawnerStartCpu: number[] = [];
for (let i = 0; i < SETUPS; i++) {
  const launcher = new SpawnerLauncher();
  const [t0, c0] = [process.hrtime.bigint(), cpuNow()];
  await launcher.warmUp();
  spawnerStart.push(Number(process.hrtime.bigint() - t0) / 1e6);
  spawnerStartCpu.push(cpuNow() - c0);
  await launcher.close();
}

// 2 and 3. Per launch, alternated round by round.
const plain = new SpawnerLauncher();
await plain.warmUp();
const limited = await RunSandbox.prepare(settings, shape);
const unlimited = await RunSandbox.prepare({ ...settings, cgroups: null }, shape);
const runs = new Map([
  [1, limited],
  [2, unlimited],
]);
const scoped: Launcher = { launch: (request) => runs.get(request.scope!.runId)!.launch(request) };
const results: Record<string, number[]> = { direct: [], spawner: [], sandbox: [], 'sandbox, no cgroups': [], 'network none': [] };
for (let round = 0; round < ROUNDS + 1; round++) {
  const take = round > 0; // the first round warms up
  const put = (key: string, ms: number) => take && results[key]!.push(ms);
  put('direct', await msPer(direct, LAUNCHES));
  put('spawner', await msPer(() => launchOnce(plain, root), LAUNCHES));
  put('sandbox', await msPer(() => launchOnce(scoped, limited.slot.workspace, { runId: 1 }), LAUNCHES));
  put('sandbox, no cgroups', await msPer(() => launchOnce(scoped, unlimited.slot.workspace, { runId: 2 }), LAUNCHES));
  put('network none', await msPer(() => launchOnce(scoped, limited.slot.workspace, { runId: 1, network: 'none' }), LAUNCHES / 2));
}
await Promise.all([plain.close(), limited.discard(), unlimited.discard(), settings.cgroups?.close(), host.close()]);
account?.leave(process.pid);
account?.close();
rmSync(root, { recursive: true, force: true });

const f = (n: number) => n.toFixed(2);
/** A signed difference: +1.20 or −0.40. */
const d = (n: number) => `${n < 0 ? '−' : '+'}${Math.abs(n).toFixed(2)}`;
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)])) as Record<string, number>;
const lines = [
  `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · Node ${process.version} · ${availableParallelism()} × ${cpus()[0]?.model ?? 'CPU'} · load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} · limits through ${state.limits}.`,
  '',
  '| what | ms | against | difference |',
  '| --- | ---: | --- | ---: |',
  `| set-up of a run's sandbox, cold (median of ${SETUPS}) | ${f(median(cold))} | unsandboxed spawner start ${f(median(spawnerStart))} | ${d(median(cold) - median(spawnerStart))} |`,
  `| same, CPU time (all processes) | ${f(median(coldCpu))} | unsandboxed spawner start ${f(median(spawnerStartCpu))} | ${d(median(coldCpu) - median(spawnerStartCpu))} |`,
  `| same, with the Node spawner inside (the fallback) | ${f(median(coldNode))} | with ${settings.spawner.kind === 'perl' ? 'spawner.pl' : 'Node'} ${f(median(cold))} | ${d(median(coldNode) - median(cold))} |`,
  `| same, CPU time | ${f(median(coldNodeCpu))} | with ${settings.spawner.kind === 'perl' ? 'spawner.pl' : 'Node'} ${f(median(coldCpu))} | ${d(median(coldNodeCpu) - median(coldCpu))} |`,
  `| closing a run's sandbox (median of ${SETUPS}) | ${f(median(closing))} | | |`,
  `| same, CPU time | ${f(median(closingCpu))} | | |`,
  `| launch \`bash -e -c true\` to exit, direct spawn (median of ${ROUNDS}×${LAUNCHES}) | ${f(m.direct!)} | | |`,
  `| same, through the unsandboxed spawner | ${f(m.spawner!)} | direct | ${d(m.spawner! - m.direct!)} |`,
  `| same, inside a run's sandbox, with cgroup limits | ${f(m.sandbox!)} | direct | ${d(m.sandbox! - m.direct!)} (target ≤ +3) |`,
  `| same, inside a run's sandbox, without cgroups | ${f(m['sandbox, no cgroups']!)} | direct | ${d(m['sandbox, no cgroups']! - m.direct!)} |`,
  `| same, \`network: none\` (own network namespace) | ${f(m['network none']!)} | sandbox | ${d(m['network none']! - m.sandbox!)} |`,
];
console.log(lines.join('\n'));
if (writeDoc) {
  writeDocSection(
    '## Sandbox (bench/sandbox.ts)',
    'bench/sandbox.ts',
    `\n${lines.join('\n')}\n\nReproduce: \`npm run build && node --import tsx bench/sandbox.ts\`.\n`,
  );
  console.log('\nwrote docs/benchmarks.md');
}
