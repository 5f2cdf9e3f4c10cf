/**
 * git_checkout through the repository's mirror (git daemon as the remote): the platform fetches
 * into the mirror, the step's git copies the one commit from it; a new commit reaches the mirror
 * for the next run; `origin` is the repository, so a later step fetches from it as after a clone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeEngineHarness, makeSpec, runWith, shell, testLauncher } from '../../../test/support/engine-harness.js';
import { createBareRepo, git, makeTempDir, startGitDaemon } from '../../../test/support/git-fixtures.js';
import { GitCheckoutExecutor } from './git-checkout.js';
import { ShellCommandExecutor } from './shell-command.js';
import { RepositoryMirrors } from '../mirror/repository-mirrors.js';
import type { StepDefinition } from '../../domain/pipeline.js';

const checkout = (config: Record<string, unknown>): StepDefinition => ({ name: 'checkout', type: 'git_checkout', config });

/** A git wrapper that records every argv, so the test sees which calls reached the remote. */
function gitSpy(dir: string) {
  const log = join(dir, 'argv.log');
  const path = join(dir, 'git-spy');
  writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec git "$@"\n`, { mode: 0o755 });
  return { path, log };
}

test('checkouts copy from the mirror: by branch and by exact commit, origin kept for later steps, a new commit reaches the mirror for the next run', async () => {
  const tmp = makeTempDir();
  const daemon = await startGitDaemon(tmp.path);
  const h = makeEngineHarness();
  try {
    const repo = createBareRepo(tmp.path, 'app', { history: [{ a: '1' }, { a: '2' }] });
    const mirrors = new RepositoryMirrors({ root: join(h.root, 'mirrors'), policy: { allowLocal: false } });
    const spy = gitSpy(tmp.path);
    const executors = [
      new GitCheckoutExecutor({ launcher: testLauncher, cancelGraceMs: 500, allowLocalRepositories: false, mirrors, git: spy.path }),
      new ShellCommandExecutor({ launcher: testLauncher, shell: 'bash', cancelGraceMs: 500 }),
    ];
    const url = daemon.url('app');
    const byBranch = makeSpec([
      checkout({ repository: url, branch: 'main' }),
      shell('after', 'git remote get-url origin; git rev-parse --abbrev-ref HEAD; git fetch -q origin && git rev-parse origin/main'),
    ]);
    const a = await runWith(h, byBranch, { executors });
    assert.equal(a.outcome.status, 'success', (await a.stepLog(0)) + (await a.stepLog(1)));
    assert.match(await a.stepLog(0), /Mirror updated; copying commit [0-9a-f]{40} from it/);
    assert.equal(await a.stepLog(1), `${url}\nmain\n${repo.commits[1]}\n`);
    // The step's git never talked to the remote for the checkout itself: it fetched from the mirror.
    const stepCalls = readFileSync(spy.log, 'utf8').trim().split('\n');
    assert.ok(
      stepCalls.some((c) => c.includes(`fetch -q --no-tags --depth 1 -- ${mirrors.pathFor(url)}`)),
      stepCalls.join('\n'),
    );
    assert.ok(!stepCalls.some((c) => c.includes('clone')));

    // A new commit: the next run's mirror fetch brings it, and an exact commit checks out.
    const work = join(tmp.path, 'work');
    git(tmp.path, ['clone', '-q', repo.bare, work]);
    mkdirSync(join(work, 'b'), { recursive: true });
    writeFileSync(join(work, 'b', 'new.txt'), 'new');
    git(work, ['add', '-A']);
    git(work, ['commit', '-q', '-m', 'three']);
    git(work, ['push', '-q', 'origin', 'HEAD:main']);
    const third = git(work, ['rev-parse', 'HEAD']);
    const byCommit = makeSpec([checkout({ repository: url, commit: third }), shell('show', 'cat b/new.txt; git rev-parse HEAD')], { commit: third });
    const b = await runWith(h, byCommit, { executors });
    assert.equal(b.outcome.status, 'success', await b.stepLog(0));
    assert.equal(await b.stepLog(1), `new${third}\n`);
    assert.equal(b.reporter.finished(byCommit.steps[0]!.stepId)?.commit, third);
  } finally {
    h.cleanup();
    await daemon.stop();
    tmp.cleanup();
  }
});

test('a mirror that cannot be updated falls back to a direct clone, saying so', async () => {
  const tmp = makeTempDir();
  const daemon = await startGitDaemon(tmp.path);
  const h = makeEngineHarness();
  try {
    const repo = createBareRepo(tmp.path, 'app', { history: [{ a: '1' }] });
    // A mirrors root that cannot be created (a file is in the way).
    writeFileSync(join(h.root, 'blocked'), '');
    const mirrors = new RepositoryMirrors({ root: join(h.root, 'blocked', 'mirrors'), policy: { allowLocal: false } });
    const executors = [new GitCheckoutExecutor({ launcher: testLauncher, cancelGraceMs: 500, allowLocalRepositories: false, mirrors })];
    const spec = makeSpec([checkout({ repository: daemon.url('app'), branch: 'main' })]);
    const { outcome, stepLog } = await runWith(h, spec, { executors });
    assert.equal(outcome.status, 'success', await stepLog(0));
    assert.match(await stepLog(0), /mirror could not be used .*; cloning directly/);
    assert.match(await stepLog(0), new RegExp(`HEAD is now at ${repo.commits[0]}`));
  } finally {
    h.cleanup();
    await daemon.stop();
    tmp.cleanup();
  }
});
