/**
 * Pipelines as code (issue 11b, Performance), against the same pipeline stored in AnsFlow, in one
 * run of this script:
 *
 *   1. trigger → first step   a manual run of a one-step pipeline whose steps are read from
 *                             `.ansflow.yml` served by a local `git daemon` (mirror fetch, branch
 *                             head resolved, file read with cat-file, planned, step rows written)
 *                             vs the same step stored in AnsFlow; rounds alternate between the two.
 *                             Measured from this process' clock before the POST to the step's stored
 *                             `started_at` (same machine, millisecond precision). Target: within +30 ms.
 *                             Also a run of a known commit the mirror already holds (a redelivery,
 *                             a second pipeline of one push): read from the mirror without a fetch.
 *   2. second run, 50 MB      a repository holding 50 MB of incompressible files: the first run
 *                             creates the mirror (the whole history travels), a small commit is
 *                             pushed, the second run fetches only that commit's objects. Bytes:
 *                             the mirror's growth (`git count-objects -v`: packs + loose objects).
 *
 *   node --import tsx bench/pipeline-file.ts [--rounds N] [--no-doc]
 *
 * The server runs in this process (test/support/api-harness.ts: the real API, worker, SQLite and
 * sandbox). Prints a table and writes it into docs/benchmarks.md ("Pipeline files"). Exits
 * non-zero only when a run failed, never because a target was missed.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { startApi, type Harness } from '../test/support/api-harness.js';
import { createBareRepo, git, makeTempDir, startGitDaemon } from '../test/support/git-fixtures.js';
import { isFinalStatus } from '../test/support/run-status.js';
import { waitFor } from '../test/support/wait.js';
import { mirrorsRoot } from '../src/runtime/pipeline-files.js';
import { RepositoryMirrors } from '../src/engine/mirror/repository-mirrors.js';
import { ascending, median, percentile } from './stats.js';
import { writeDocSection } from './bench-server.js';

let rounds = 20;
let writeDoc = true;
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--rounds') rounds = Number(process.argv[++i]);
  else if (process.argv[i] === '--no-doc') writeDoc = false;
}

const STEP = { name: 'first', type: 'shell_command', config: { command: 'true' } };

async function runToEnd(h: Harness, token: string, pipelineId: number, body: Record<string, unknown> = {}) {
  const t0 = Date.now();
  const r = await h.request('POST', `/api/pipelines/${pipelineId}/run/`, { token, body });
  if (r.status !== 201) throw new Error(`trigger failed: ${r.status} ${r.text}`);
  const run = await waitFor(async () => {
    const d = await h.request('GET', `/api/pipeline-runs/${r.json.id}/`, { token });
    return isFinalStatus(d.json.status) ? d.json : undefined;
  }, 120_000);
  if (run.status !== 'success') throw new Error(`run ${run.id} ended ${run.status}: ${run.error_reason}`);
  return { run, toFirstStep: Date.parse(run.steps[0].started_at) - t0 };
}

/** Bytes of a repository's objects: packs plus loose objects. */
function objectBytes(gitDir: string): number {
  const out = execFileSync('git', ['--git-dir', gitDir, 'count-objects', '-v'], { encoding: 'utf8' });
  const kib = (key: string) => Number(new RegExp(`^${key}: (\\d+)$`, 'm').exec(out)?.[1] ?? 0);
  return (kib('size') + kib('size-pack')) * 1024;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const ms = (v: number) => `${v.toFixed(0)} ms`;

async function main() {
  const tmp = makeTempDir('ansflow-bench-pf-');
  const daemon = await startGitDaemon(tmp.path);
  const h = await startApi({ workspaceRetentionHours: 0 });
  try {
    const token = await h.login();
    // 1. trigger → first step, file vs stored.
    const small = createBareRepo(tmp.path, 'small', { history: [{ '.ansflow.yml': 'steps:\n  - { name: first, run: "true" }\n' }] });
    const head = small.commits.at(-1)!;
    const create = async (body: Record<string, unknown>) => (await h.request('POST', '/api/pipelines/', { token, body })).json.id as number;
    const fromFile = await create({ name: 'from-file', repository_url: daemon.url('small'), config_path: '.ansflow.yml' });
    const stored = await create({ name: 'stored', repository_url: daemon.url('small'), steps: [STEP] });
    await runToEnd(h, token, fromFile); // the mirror is made once, as on any server's first run
    await runToEnd(h, token, stored);
    const file: number[] = [];
    const kept: number[] = [];
    const known: number[] = [];
    const keptKnown: number[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const [id, into] of i % 2 === 0
        ? ([
            [fromFile, file],
            [stored, kept],
          ] as const)
        : ([
            [stored, kept],
            [fromFile, file],
          ] as const))
        into.push((await runToEnd(h, token, id)).toFirstStep);
      // The same commit again, given: the mirror holds it, so the file is read without a fetch.
      for (const [id, into] of i % 2 === 0
        ? ([
            [fromFile, known],
            [stored, keptKnown],
          ] as const)
        : ([
            [stored, keptKnown],
            [fromFile, known],
          ] as const))
        into.push((await runToEnd(h, token, id, { commit: head })).toFirstStep);
    }

    // 2. a 50 MB repository: first run vs second run after one small commit.
    const big = createBareRepo(tmp.path, 'big', { history: [{ '.ansflow.yml': 'steps:\n  - { name: first, run: "true" }\n' }] });
    const work = join(tmp.path, 'big.work');
    git(tmp.path, ['clone', '-q', big.bare, work]);
    mkdirSync(join(work, 'blobs'), { recursive: true });
    for (let i = 0; i < 50; i++) writeFileSync(join(work, 'blobs', `b${i}.bin`), randomBytes(1024 * 1024));
    git(work, ['add', '-A']);
    git(work, ['commit', '-q', '-m', '50 MB']);
    git(work, ['push', '-q', 'origin', 'HEAD:main']);
    const repoBytes = objectBytes(big.bare);
    const bigId = await create({ name: 'big', repository_url: daemon.url('big'), config_path: '.ansflow.yml' });
    const mirror = new RepositoryMirrors({ root: mirrorsRoot(h.dataDir), policy: { allowLocal: false } }).pathFor(daemon.url('big'));
    const firstRun = await runToEnd(h, token, bigId);
    const afterFirst = objectBytes(mirror);
    writeFileSync(join(work, 'CHANGELOG.md'), `one more line ${Date.now()}\n`);
    git(work, ['add', '-A']);
    git(work, ['commit', '-q', '-m', 'small change']);
    git(work, ['push', '-q', 'origin', 'HEAD:main']);
    const newCommitBytes = Buffer.byteLength(execFileSync('git', ['--git-dir', big.bare, 'pack-objects', '--stdout', '--revs'], { input: 'main\n^main~1\n' }));
    const secondRun = await runToEnd(h, token, bigId);
    const afterSecond = objectBytes(mirror);

    const rows = [
      ['trigger → first step, file from git daemon (median / p90)', `${ms(median(file))} / ${ms(percentile(ascending(file), 90))}`],
      ['trigger → first step, stored pipeline (median / p90)', `${ms(median(kept))} / ${ms(percentile(ascending(kept), 90))}`],
      ['difference of medians (target ≤ +30 ms)', `${median(file) - median(kept) >= 0 ? '+' : ''}${ms(median(file) - median(kept))}`],
      ['a known commit already in the mirror: file / stored (medians)', `${ms(median(known))} / ${ms(median(keptKnown))}`],
      ['difference of medians, known commit', `${median(known) - median(keptKnown) >= 0 ? '+' : ''}${ms(median(known) - median(keptKnown))}`],
      ['50 MB repository: its objects on the server', kb(repoBytes)],
      ['first run: mirror made (bytes fetched)', `${kb(afterFirst)} (trigger → first step ${ms(firstRun.toFirstStep)})`],
      ['second run after one small commit: bytes fetched', `${kb(afterSecond - afterFirst)} (trigger → first step ${ms(secondRun.toFirstStep)})`],
      ["the new commit's objects as a pack", kb(newCommitBytes)],
    ];
    const table = ['| Measure | Result |', '| --- | --- |', ...rows.map(([a, b]) => `| ${a} | ${b} |`)].join('\n');
    const header = `${rounds} alternating rounds each; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; ${new Date().toISOString().slice(0, 10)}.`;
    console.log(`${header}\n\n${table}`);
    if (writeDoc) writeDocSection('## Pipeline files (bench/pipeline-file.ts)', 'bench/pipeline-file.ts', `${header}\n\n${table}`);
  } finally {
    await h.close();
    await daemon.stop();
    tmp.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
