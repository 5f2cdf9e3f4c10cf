import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { makeEngineHarness, makeSpec, runWith, testLauncher, type EngineHarness } from '../../../test/support/engine-harness.js';
import { addSubmodule, createBareRepo, git, makeTempDir, startGitDaemon, startHttpGitServer } from '../../../test/support/git-fixtures.js';
import { GitCheckoutExecutor } from './git-checkout.js';
import { ShellCommandExecutor } from './shell-command.js';
import type { StepDefinition } from '../../domain/pipeline.js';
import type { RunSpec } from '../ports.js';

const checkout = (config: Record<string, unknown>, extra: Partial<StepDefinition> = {}): StepDefinition => ({
  name: 'checkout',
  type: 'git_checkout',
  config,
  ...extra,
});

/** A `git` wrapper that records every argv it is called with, then runs the real git. */
function gitSpy(dir: string): { path: string; calls: () => string[] } {
  const log = join(dir, 'git-argv.log');
  const path = join(dir, 'git-spy');
  writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec git "$@"\n`);
  chmodSync(path, 0o755);
  return { path, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []) };
}

async function runCheckout(h: EngineHarness, spec: RunSpec, opts: { allowLocal?: boolean; git?: string } = {}) {
  const executors = [
    new GitCheckoutExecutor({
      launcher: testLauncher,
      cancelGraceMs: 500,
      allowLocalRepositories: opts.allowLocal ?? true,
      ...(opts.git && { git: opts.git }),
    }),
    new ShellCommandExecutor({ launcher: testLauncher, shell: 'bash', cancelGraceMs: 500 }),
  ];
  const result = await runWith(h, spec, { executors });
  const workspace = (result.reporter.events.find((e) => e.kind === 'runStarted') as { workspace: string } | undefined)?.workspace ?? '';
  return { ...result, workspace };
}

test('clones a file:// repository shallowly by branch when local repositories are allowed, and reports the commit', async () => {
  const tmp = makeTempDir();
  const h = makeEngineHarness();
  try {
    const repo = createBareRepo(tmp.path, 'app', { history: [{ a: '1' }, { a: '2' }, { a: '3' }] });
    const spec = makeSpec([checkout({ repository: repo.fileUrl, branch: 'main' })]);
    const { outcome, reporter, workspace, stepLog } = await runCheckout(h, spec);
    assert.equal(outcome.status, 'success', await stepLog(0));
    assert.equal(git(workspace, ['rev-parse', 'HEAD']), repo.commits[2]);
    assert.equal(git(workspace, ['rev-parse', '--is-shallow-repository']), 'true');
    assert.equal(reporter.finished(spec.steps[0]!.stepId)?.commit, repo.commits[2]);
    const log = await stepLog(0);
    assert.match(log, /^\$ git clone --depth 1 --branch main -- file:\/\/\S+ \.$/m);
    assert.match(log, new RegExp(`HEAD is now at ${repo.commits[2]}`));
  } finally {
    h.cleanup();
    tmp.cleanup();
  }
});

test('over git:// (git daemon): checks out an exact older commit shallowly, and the full history with depth 0', async () => {
  const tmp = makeTempDir();
  const h = makeEngineHarness();
  const daemon = await startGitDaemon(tmp.path);
  try {
    const repo = createBareRepo(tmp.path, 'svc', { history: [{ a: '1' }, { a: '2' }, { a: '3' }], extraBranches: ['dev'] });
    const exact = makeSpec([checkout({ repository: daemon.url('svc'), commit: repo.commits[1] })]);
    const first = await runCheckout(h, exact, { allowLocal: false });
    assert.equal(first.outcome.status, 'success', await first.stepLog(0));
    assert.equal(git(first.workspace, ['rev-parse', 'HEAD']), repo.commits[1]);
    assert.equal(readFileSync(join(first.workspace, 'a'), 'utf8'), '2');

    const full = makeSpec([checkout({ repository: daemon.url('svc'), branch: 'dev', depth: 0 })], { branch: '' });
    const second = await runCheckout(h, full, { allowLocal: false });
    assert.equal(second.outcome.status, 'success', await second.stepLog(0));
    assert.equal(readFileSync(join(second.workspace, 'BRANCH'), 'utf8'), 'dev');
    assert.equal(git(second.workspace, ['rev-list', '--count', 'HEAD']), '4');
  } finally {
    await daemon.stop();
    h.cleanup();
    tmp.cleanup();
  }
});

test('an abbreviated commit falls back to a full fetch', async () => {
  const tmp = makeTempDir();
  const h = makeEngineHarness();
  try {
    const repo = createBareRepo(tmp.path, 'app', { history: [{ a: '1' }, { a: '2' }] });
    const spec = makeSpec([checkout({ repository: repo.fileUrl, commit: repo.commits[0]!.slice(0, 8) })]);
    const { outcome, workspace, stepLog } = await runCheckout(h, spec);
    assert.equal(outcome.status, 'success', await stepLog(0));
    assert.equal(git(workspace, ['rev-parse', 'HEAD']), repo.commits[0]);
  } finally {
    h.cleanup();
    tmp.cleanup();
  }
});

test("the run's branch and commit apply to the pipeline's repository only", async () => {
  const tmp = makeTempDir();
  const h = makeEngineHarness();
  try {
    const app = createBareRepo(tmp.path, 'app', { history: [{ a: '1' }, { a: '2' }] });
    const lib = createBareRepo(tmp.path, 'lib', { history: [{ l: '1' }, { l: '2' }] });
    const spec = makeSpec(
      [
        checkout({ repository: app.fileUrl, branch: 'main', directory: 'app' }),
        checkout({ repository: lib.fileUrl, branch: 'main', directory: 'lib' }, { name: 'lib' }),
      ],
      { repositoryUrl: app.fileUrl, commit: app.commits[0]! },
    );
    const { outcome, workspace, stepLog } = await runCheckout(h, spec);
    assert.equal(outcome.status, 'success', await stepLog(0));
    assert.equal(git(join(workspace, 'app'), ['rev-parse', 'HEAD']), app.commits[0]);
    assert.equal(git(join(workspace, 'lib'), ['rev-parse', 'HEAD']), lib.commits[1]);
  } finally {
    h.cleanup();
    tmp.cleanup();
  }
});

test('hostile repository URLs are refused before git ever runs, and execute nothing', async () => {
  const tmp = makeTempDir();
  const h = makeEngineHarness();
  try {
    const spy = gitSpy(tmp.path);
    const marker = `/tmp/pwned-${randomUUID()}`;
    const hostile = [
      `ext::sh -c touch% ${marker}`,
      `ext::sh -c touch% ${marker}`.replace(/ /g, ''),
      `--upload-pack=touch ${marker}`,
      `--upload-pack=touch\${IFS}${marker}`,
      `ssh://-oProxyCommand=touch ${marker}`,
      `ssh://-oProxyCommand=touch\${IFS}${marker}/x`,
      'file:///etc',
      '/etc',
      'https://example.com/a.git\r\nHost: evil',
      'https://example.com/a.git\nx',
    ];
    for (const url of hostile) {
      const spec = makeSpec([checkout({ repository: url })]);
      const { outcome, reporter } = await runCheckout(h, spec, { allowLocal: false, git: spy.path });
      assert.equal(outcome.status, 'failed', url);
      assert.match(reporter.finished(spec.steps[0]!.stepId)?.message ?? '', /repository refused/, url);
    }
    assert.deepEqual(spy.calls(), [], 'git was never started');
    assert.equal(existsSync(marker), false);
  } finally {
    h.cleanup();
    tmp.cleanup();
  }
});

test('hostile branch names never execute: refused when invalid, inert argv when git accepts the characters', async () => {
  const tmp = makeTempDir();
  const h = makeEngineHarness();
  try {
    const repo = createBareRepo(tmp.path, 'app');
    const marker = `/tmp/pwned-${randomUUID()}`;
    const refused = makeSpec([checkout({ repository: repo.fileUrl, branch: `a";$(touch ${marker});echo"` })], { branch: '' });
    const first = await runCheckout(h, refused);
    assert.equal(first.outcome.status, 'failed');
    assert.match(first.reporter.finished(refused.steps[0]!.stepId)?.message ?? '', /branch refused/);

    const inert = makeSpec([checkout({ repository: repo.fileUrl, branch: `$(touch\${IFS}${marker})` })], { branch: '' });
    const second = await runCheckout(h, inert);
    assert.equal(second.outcome.status, 'failed', 'no such branch, but nothing ran');
    assert.equal(existsSync(marker), false);
  } finally {
    h.cleanup();
    tmp.cleanup();
  }
});

test('credentials in an https URL go through GIT_ASKPASS: never in argv, logs or .git/config', async () => {
  const tmp = makeTempDir();
  const h = makeEngineHarness();
  const token = `tok-${randomUUID()}`;
  createBareRepo(tmp.path, 'private', { history: [{ secret: 'data' }] });
  const server = await startHttpGitServer(tmp.path, { username: 'deploy', password: token });
  try {
    const spy = gitSpy(tmp.path);
    const url = server.url('private').replace('http://', `http://deploy:${token}@`);
    const spec = makeSpec([checkout({ repository: url }), { name: 'echo', type: 'shell_command', config: { command: `echo leaked ${token}` } }]);
    const { outcome, workspace, stepLog, runLog } = await runCheckout(h, spec, { allowLocal: false, git: spy.path });
    assert.equal(outcome.status, 'success', await stepLog(0));
    assert.equal(readFileSync(join(workspace, 'secret'), 'utf8'), 'data');
    assert.ok(server.authorizations.some((a) => Buffer.from(a.slice(6), 'base64').toString() === `deploy:${token}`));
    assert.ok(spy.calls().length > 0);
    assert.ok(
      spy.calls().every((argv) => !argv.includes(token)),
      'token in argv',
    );
    assert.ok(server.requestUrls.every((u) => !u.includes(token)));
    assert.ok(!readFileSync(join(workspace, '.git', 'config'), 'utf8').includes(token));
    const logs = (await stepLog(0)) + (await stepLog(1)) + (await runLog());
    assert.ok(!logs.includes(token), 'token in a log');
    assert.match(await stepLog(0), /http:\/\/\*\*\*@127\.0\.0\.1/);
    assert.match(await stepLog(1), /leaked \*\*\*\*\*\*/);
  } finally {
    await server.stop();
    h.cleanup();
    tmp.cleanup();
  }
});

test('wrong credentials fail the step without prompting or hanging', async () => {
  const tmp = makeTempDir();
  const h = makeEngineHarness();
  createBareRepo(tmp.path, 'private');
  const server = await startHttpGitServer(tmp.path, { username: 'deploy', password: 'right-one' });
  try {
    const spec = makeSpec([checkout({ repository: server.url('private').replace('http://', 'http://deploy:wrong-one@') })]);
    const started = Date.now();
    const { outcome } = await runCheckout(h, spec, { allowLocal: false });
    assert.equal(outcome.status, 'failed');
    assert.ok(Date.now() - started < 10_000);
  } finally {
    await server.stop();
    h.cleanup();
    tmp.cleanup();
  }
});

test('submodules: checked out when allowed; a file:// submodule is refused when local repositories are not', async () => {
  const tmp = makeTempDir();
  const h = makeEngineHarness();
  const daemon = await startGitDaemon(tmp.path);
  try {
    const lib = createBareRepo(tmp.path, 'lib', { history: [{ 'lib.txt': 'lib' }] });
    const viaDaemon = createBareRepo(tmp.path, 'app', { history: [{ a: '1' }] });
    addSubmodule(viaDaemon, daemon.url('lib'), 'vendor/lib');
    const ok = makeSpec([checkout({ repository: daemon.url('app'), submodules: true })]);
    const first = await runCheckout(h, ok, { allowLocal: false });
    assert.equal(first.outcome.status, 'success', await first.stepLog(0));
    assert.equal(readFileSync(join(first.workspace, 'vendor', 'lib', 'lib.txt'), 'utf8'), 'lib');

    const sneaky = createBareRepo(tmp.path, 'sneaky', { history: [{ a: '1' }] });
    addSubmodule(sneaky, lib.fileUrl, 'vendor/lib');
    const refused = makeSpec([checkout({ repository: daemon.url('sneaky'), submodules: true })]);
    const second = await runCheckout(h, refused, { allowLocal: false });
    assert.equal(second.outcome.status, 'failed');
    assert.match(await second.stepLog(0), /transport 'file' not allowed/);
    assert.equal(existsSync(join(second.workspace, 'vendor', 'lib', 'lib.txt')), false);
  } finally {
    await daemon.stop();
    h.cleanup();
    tmp.cleanup();
  }
});

test('directory: clones into a folder inside the workspace; ../ is refused', async () => {
  const tmp = makeTempDir();
  const h = makeEngineHarness();
  try {
    const repo = createBareRepo(tmp.path, 'app');
    const spec = makeSpec([
      checkout({ repository: repo.fileUrl, directory: 'src/app' }),
      checkout({ repository: repo.fileUrl, directory: '../outside' }, { name: 'escape' }),
    ]);
    const { reporter, workspace } = await runCheckout(h, spec);
    assert.deepEqual(Object.values(reporter.finalStatuses()), ['success', 'failed']);
    assert.ok(existsSync(join(workspace, 'src', 'app', 'README.md')));
    assert.match(reporter.finished(spec.steps[1]!.stepId)?.message ?? '', /directory refused/);
  } finally {
    h.cleanup();
    tmp.cleanup();
  }
});
