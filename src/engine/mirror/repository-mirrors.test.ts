/**
 * Repository mirrors against real git servers (git daemon; git http-backend behind Basic auth):
 * created on first use, later fetches bring only new commits, files read at exact commits,
 * changed files and merge bases, concurrent fetches into one mirror, refused URLs, credentials.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { waitFor } from '../../../test/support/wait.js';
import { RepositoryMirrors, MirrorError } from './repository-mirrors.js';
import { MirrorFileSource } from './mirror-file-source.js';
import { SpawnerLauncher } from '../launch/spawner-launcher.js';
import { launcherLongLived, spawnLongLived, type LongLivedRunner } from '../launch/long-lived-command.js';
import { launcherCommands, spawnCommand, type CommandRunner } from '../launch/run-command.js';
import { createBareRepo, git, makeTempDir, startGitDaemon, startHttpGitServer } from '../../../test/support/git-fixtures.js';
import type { ResolvedCredential } from '../../domain/credentials.js';

/** Commits files to a bare repository's branch (a push from a scratch clone); returns the new SHA. */
function push(bare: string, branch: string, files: Record<string, string | null>): string {
  const work = `${bare}.push-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  git(join(bare, '..'), ['clone', '-q', '-b', branch, bare, work]);
  for (const [path, content] of Object.entries(files)) {
    if (content === null) git(work, ['rm', '-q', '--', path]);
    else {
      mkdirSync(join(work, path, '..'), { recursive: true });
      writeFileSync(join(work, path), content);
    }
  }
  git(work, ['add', '-A']);
  git(work, ['commit', '-q', '-m', 'change']);
  git(work, ['push', '-q', 'origin', `HEAD:${branch}`]);
  return git(work, ['rev-parse', 'HEAD']);
}

const remoteOnly = { allowLocal: false };

test('first use creates the mirror; a later fetch brings the new commit; files are read at exact commits', async () => {
  const tmp = makeTempDir();
  const daemon = await startGitDaemon(tmp.path);
  try {
    const repo = createBareRepo(tmp.path, 'app', { history: [{ '.ansflow.yml': 'steps: [one]\n', 'src/a.txt': 'a' }] });
    const mirrors = new RepositoryMirrors({ root: join(tmp.path, 'data', 'mirrors'), policy: remoteOnly });
    const url = daemon.url('app');
    const path = await mirrors.fetch({ url });
    assert.ok(path.startsWith(join(tmp.path, 'data', 'mirrors')) && path.endsWith('.git'));
    assert.equal(mirrors.pathFor(`${url}/`.replace(/\/$/, '')), path);
    const first = await mirrors.resolve(path, 'main');
    assert.equal(first, repo.commits[0]);

    const second = push(repo.bare, 'main', { '.ansflow.yml': 'steps: [two]\n', 'docs/b.md': 'b' });
    assert.equal(await mirrors.has(path, second), false);
    await mirrors.fetch({ url });
    assert.equal(await mirrors.resolve(path, 'main'), second);
    // Each commit keeps its own file.
    assert.equal(await mirrors.readFile(path, first, '.ansflow.yml'), 'steps: [one]\n');
    assert.equal(await mirrors.readFile(path, second, '.ansflow.yml'), 'steps: [two]\n');
    assert.deepEqual((await mirrors.changedFiles(path, first, second))?.sort(), ['.ansflow.yml', 'docs/b.md']);
    assert.equal(await mirrors.changedFiles(path, 'f'.repeat(40), second), null);
    await assert.rejects(mirrors.readFile(path, first, 'docs/b.md'), MirrorError);
    // The commit and a file in one process: by branch, by commit, a missing file, an unknown ref.
    assert.deepEqual(await mirrors.readAt(path, 'main', '.ansflow.yml'), { commit: second, content: 'steps: [two]\n' });
    assert.deepEqual(await mirrors.readAt(path, first, '.ansflow.yml'), { commit: first, content: 'steps: [one]\n' });
    assert.deepEqual(await mirrors.readAt(path, first, 'docs/b.md'), { commit: first, content: null });
    await assert.rejects(mirrors.readAt(path, 'no-such-branch', '.ansflow.yml'), /not a branch, tag or commit/);

    // With the server gone: a commit the mirror holds needs no fetch; anything else does.
    await daemon.stop();
    assert.equal(await mirrors.fetch({ url, extra: [second], onlyIfMissing: true }), path);
    await assert.rejects(mirrors.fetch({ url, extra: [second] }), MirrorError);
    await assert.rejects(mirrors.fetch({ url, extra: ['e'.repeat(40)], onlyIfMissing: true }), MirrorError);
  } finally {
    await daemon.stop();
    tmp.cleanup();
  }
});

test('concurrent fetches into one new mirror all succeed (one lock), and leave one mirror', async () => {
  const tmp = makeTempDir();
  const daemon = await startGitDaemon(tmp.path);
  const launcher = new SpawnerLauncher();
  try {
    const repo = createBareRepo(tmp.path, 'app', { history: [{ 'f.txt': '1' }, { 'f.txt': '2' }] });
    const root = join(tmp.path, 'mirrors');
    // Two "workers" on one machine: separate objects, one folder; one starts git through its spawner.
    const a = new RepositoryMirrors({ root, policy: remoteOnly });
    const b = new RepositoryMirrors({ root, policy: remoteOnly, commands: launcherCommands(launcher) });
    const paths = await Promise.all([a, b, a, b, a, b].map((m) => m.fetch({ url: daemon.url('app') })));
    assert.equal(new Set(paths).size, 1);
    assert.equal(await a.resolve(paths[0]!, 'main'), repo.commits[1]);
    assert.deepEqual(
      readdirSync(root).filter((f) => !f.endsWith('.lock')),
      [paths[0]!.slice(root.length + 1)],
    );
    git(tmp.path, ['--git-dir', paths[0]!, 'fsck', '--no-progress']);
  } finally {
    await launcher.close();
    await daemon.stop();
    tmp.cleanup();
  }
});

test("through the host spawner, every git (and flock) is the spawner's child, with the platform's environment only", async () => {
  const tmp = makeTempDir();
  const daemon = await startGitDaemon(tmp.path);
  const launcher = new SpawnerLauncher();
  process.env.ANSFLOW_TEST_SERVER_ONLY = 'server-secret';
  try {
    const repo = createBareRepo(tmp.path, 'app', { history: [{ '.ansflow.yml': 'steps: [one]\n' }] });
    // A git that notes its parent and its parent's parent (flock's, for the fetch) and its variables.
    const log = join(tmp.path, 'calls.log');
    const wrapper = join(tmp.path, 'git-wrapper');
    writeFileSync(
      wrapper,
      `#!/bin/sh\necho "$PPID $(cut -d' ' -f4 /proc/$PPID/stat) $(cat /proc/$PPID/comm) $(env | cut -d= -f1 | tr '\\n' ,) $*" >> ${log}\nexec git "$@"\n`,
      { mode: 0o755 },
    );
    const mirrors = new RepositoryMirrors({
      root: join(tmp.path, 'mirrors'),
      policy: remoteOnly,
      git: wrapper,
      commands: launcherCommands(launcher),
      readers: launcherLongLived(launcher),
    });
    const path = await mirrors.fetch({ url: daemon.url('app') });
    assert.deepEqual(await mirrors.readAt(path, 'main', '.ansflow.yml'), { commit: repo.commits[0], content: 'steps: [one]\n' });
    assert.equal(await mirrors.hasAll(path, [repo.commits[0]!]), true);
    assert.equal(await mirrors.hasAll(path, ['e'.repeat(40)]), false);
    const spawner = String(launcher.spawnerPid);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    assert.ok(calls.length >= 4, calls.join('\n'));
    for (const call of calls) {
      const [parent, grandparent, parentName, names] = call.split(' ');
      // Writers (init, fetch) hold the mirror's lock: flock, the spawner's child, runs them.
      const locked = / (init|fetch) /.test(call);
      if (locked) assert.ok(parentName === 'flock' && grandparent === spawner, `flock, started by the spawner (${spawner}): ${call}`);
      else assert.equal(parent, spawner, `started by the spawner: ${call}`);
      assert.ok(!names!.split(',').includes('ANSFLOW_TEST_SERVER_ONLY'), `no variable of the server: ${call}`);
    }
    assert.ok(calls.some((c) => / fetch /.test(c)) && calls.some((c) => / cat-file --batch$/.test(c)), calls.join('\n'));
    // git daemon is spoken to in protocol version 0 (version 2 stalls each connection ~40 ms there).
    assert.ok(
      calls.filter((c) => / fetch /.test(c)).every((c) => c.includes(' -c protocol.version=0 ')),
      calls.join('\n'),
    );
    mirrors.close();
  } finally {
    delete process.env.ANSFLOW_TEST_SERVER_ONLY;
    await launcher.close();
    await daemon.stop();
    tmp.cleanup();
  }
});

test('refused URLs never reach git; an unreachable repository is a MirrorError naming it', async () => {
  const tmp = makeTempDir();
  try {
    const mirrors = new RepositoryMirrors({ root: join(tmp.path, 'mirrors'), policy: remoteOnly });
    await assert.rejects(mirrors.fetch({ url: 'ext::sh -c touch% /tmp/pwned' }), /repository refused/);
    await assert.rejects(mirrors.fetch({ url: `file://${tmp.path}` }), /repository refused/);
    await assert.rejects(
      mirrors.fetch({ url: 'git://127.0.0.1:1/none.git' }),
      (e: unknown) => e instanceof MirrorError && /could not fetch git:\/\/127\.0\.0\.1:1\/none\.git/.test(e.message),
    );
    assert.equal(existsSync('/tmp/pwned'), false);
  } finally {
    tmp.cleanup();
  }
});

test('a private repository is fetched with a credential (helper, not the URL); its secret is in no error', async () => {
  const tmp = makeTempDir();
  const secret = 's3cret-pass;word';
  const server = await startHttpGitServer(tmp.path, { username: 'alice', password: secret });
  try {
    createBareRepo(tmp.path, 'private', { history: [{ 'tpl.yml': 'steps: []\n' }] });
    const mirrors = new RepositoryMirrors({ root: join(tmp.path, 'mirrors'), policy: remoteOnly });
    const url = server.url('private');
    await assert.rejects(mirrors.fetch({ url }), (e: unknown) => e instanceof MirrorError && !e.message.includes(secret));
    const credential: ResolvedCredential = {
      name: 'tpl',
      secret: { kind: 'username_password', value: { username: 'alice', password: secret } },
    } as ResolvedCredential;
    const path = await mirrors.fetch({ url, credential });
    assert.equal(await mirrors.readFile(path, await mirrors.resolve(path, 'main'), 'tpl.yml'), 'steps: []\n');
    assert.ok(server.requestUrls.every((u) => !u.includes(secret)));
    // No credential file is left behind in the mirrors folder.
    assert.deepEqual(
      readdirSync(join(tmp.path, 'mirrors')).filter((f) => f.startsWith('.fetch-')),
      [],
    );

    const wrong: ResolvedCredential = {
      name: 'tpl',
      secret: { kind: 'username_password', value: { username: 'alice', password: 'wrong-password' } },
    } as ResolvedCredential;
    await assert.rejects(mirrors.fetch({ url, credential: wrong }), (e: unknown) => e instanceof MirrorError && !e.message.includes('wrong-password'));
  } finally {
    await server.stop();
    tmp.cleanup();
  }
});

test('the file source reads the same repository at the run commit or a ref, and another repository at its pinned ref', async () => {
  const tmp = makeTempDir();
  const daemon = await startGitDaemon(tmp.path);
  try {
    const app = createBareRepo(tmp.path, 'app', { history: [{ 'ci/common.yml': 'old\n' }, { 'ci/common.yml': 'new\n' }] });
    const templates = createBareRepo(tmp.path, 'templates', { history: [{ 'build.yml': 'v1\n' }] });
    git(tmp.path, ['--git-dir', templates.bare, 'tag', 'v1', templates.commits[0]!]);
    push(templates.bare, 'main', { 'build.yml': 'v2\n' });
    const count = countingCommands();
    const readers = countingReaders();
    const mirrors = new RepositoryMirrors({ root: join(tmp.path, 'mirrors'), policy: remoteOnly, commands: count.commands, readers: readers.readers });
    const mirror = await mirrors.fetch({ url: daemon.url('app') });
    // Made by an earlier run (`git init` once per mirror, never again on a run's path).
    await mirrors.prepare(daemon.url('templates'));
    count.started.length = 0;
    const names: string[] = [];
    const source = new MirrorFileSource({
      mirrors,
      repository: daemon.url('app'),
      mirror,
      commit: app.commits[0]!,
      credential: async (name) => {
        names.push(name);
        return undefined;
      },
    });
    assert.equal(await source.read({ repository: null, ref: null, path: 'ci/common.yml' }), 'old\n');
    assert.equal(await source.read({ repository: null, ref: 'main', path: 'ci/common.yml' }), 'new\n');
    await assert.rejects(source.read({ repository: null, ref: null, path: 'ci/missing.yml' }), /ci\/missing.yml does not exist at commit/);
    // The same repository: its mirror's one reader, no process per file.
    assert.equal(count.started.length, 0, count.started.map((a) => a.join(' ')).join('\n'));
    assert.equal(readers.started.length, 1);
    // Another repository: its first file fetched and read by ONE process, the next ones by its reader.
    assert.equal(await source.read({ repository: daemon.url('templates'), ref: 'v1', path: 'build.yml' }), 'v1\n');
    assert.equal(count.started.length, 1, count.started.map((a) => a.join(' ')).join('\n'));
    assert.ok(count.started[0]!.includes('fetch') && count.started[0]!.some((a) => a.includes('cat-file')), count.started[0]!.join(' '));
    assert.equal(await source.read({ repository: daemon.url('templates'), ref: 'main', path: 'build.yml' }), 'v2\n');
    await assert.rejects(source.read({ repository: daemon.url('templates'), ref: 'nope', path: 'build.yml' }), /not a branch, tag or commit/);
    assert.equal(count.started.length, 1, 'fetched once per source');
    assert.equal(readers.started.length, 2);
    // A first file at a ref the repository lacks: said so, and the fetch still serves its other files.
    const other = createBareRepo(tmp.path, 'other', { history: [{ 'x.yml': 'x\n' }] });
    await assert.rejects(source.read({ repository: daemon.url('other'), ref: 'nope', path: 'x.yml' }), /"nope" is not a branch, tag or commit/);
    assert.equal(await source.read({ repository: daemon.url('other'), ref: other.commits[0]!, path: 'x.yml' }), 'x\n');
    await assert.rejects(source.read({ repository: daemon.url('other'), ref: 'main', path: 'x', credential: 'missing' }), /no credential named "missing"/);
    assert.deepEqual(names, ['missing']);
    mirrors.close();
  } finally {
    await daemon.stop();
    tmp.cleanup();
  }
});

/**
 * Counts the processes the mirrors start on a run's path (each start costs there), by their command
 * line. git's maintenance is apart: started after a fetch at most once per mirror every 10 minutes,
 * in the background, never awaited.
 */
function countingCommands(base: CommandRunner = spawnCommand): { commands: CommandRunner; started: string[][] } {
  const started: string[][] = [];
  return {
    started,
    commands: (request) => {
      if (!request.args.includes('maintenance')) started.push([request.file, ...request.args]);
      return base(request);
    },
  };
}

/** Counts the long-lived readers the mirrors start (each is a process start, once per mirror). */
function countingReaders(base: LongLivedRunner = spawnLongLived): { readers: LongLivedRunner; started: string[][] } {
  const started: string[][] = [];
  return {
    started,
    readers: (request) => {
      started.push([request.file, ...request.args]);
      return base(request);
    },
  };
}

test("a mirror's reader is one long-lived process for many reads, sees what later fetches bring, and is replaced when it dies", async () => {
  const tmp = makeTempDir();
  const daemon = await startGitDaemon(tmp.path);
  const launcher = new SpawnerLauncher();
  try {
    for (const [how, base] of [
      ['forked', spawnLongLived],
      ['through the host spawner', launcherLongLived(launcher)],
    ] as const) {
      const name = how === 'forked' ? 'app' : 'app-spawned';
      const repo = createBareRepo(tmp.path, name, { history: [{ '.ansflow.yml': 'steps: [one]\n', 'big.bin': 'x'.repeat(300_000) }] });
      const readers = countingReaders(base);
      const count = countingCommands(how === 'forked' ? spawnCommand : launcherCommands(launcher));
      const mirrors = new RepositoryMirrors({ root: join(tmp.path, 'mirrors', name), policy: remoteOnly, commands: count.commands, readers: readers.readers });
      const url = daemon.url(name);
      const path = await mirrors.fetch({ url });
      count.started.length = 0;
      // Asked at once, answered each its own (the answers come back in order on one stream).
      const reads = await Promise.all([
        mirrors.readAt(path, 'main', '.ansflow.yml'),
        mirrors.readAt(path, repo.commits[0]!, 'big.bin'),
        mirrors.readAt(path, 'main', 'missing.yml'),
        mirrors.readFile(path, 'main', '.ansflow.yml'),
      ]);
      assert.deepEqual(reads, [
        { commit: repo.commits[0], content: 'steps: [one]\n' },
        { commit: repo.commits[0], content: 'x'.repeat(300_000) },
        { commit: repo.commits[0], content: null },
        'steps: [one]\n',
      ]);
      await assert.rejects(mirrors.readAt(path, 'nope', '.ansflow.yml'), /"nope" is not a branch, tag or commit/);
      assert.equal(readers.started.length, 1, `${how}: one reader`);
      assert.equal(count.started.length, 0, `${how}: no process per read`);

      // A fetch since (a new commit, stored loose; a branch moved): the same reader sees both.
      const second = push(repo.bare, 'main', { '.ansflow.yml': 'steps: [two]\n' });
      await mirrors.fetch({ url });
      assert.deepEqual(await mirrors.readAt(path, 'main', '.ansflow.yml'), { commit: second, content: 'steps: [two]\n' });
      assert.deepEqual(await mirrors.readAt(path, second, '.ansflow.yml'), { commit: second, content: 'steps: [two]\n' });
      // ... and after the mirror was repacked (the objects moved into a new pack, refs packed).
      git(tmp.path, ['--git-dir', path, 'gc', '-q', '--prune=now']);
      const third = push(repo.bare, 'main', { '.ansflow.yml': 'steps: [three]\n' });
      await mirrors.fetch({ url });
      assert.deepEqual(await mirrors.readAt(path, 'main', '.ansflow.yml'), { commit: third, content: 'steps: [three]\n' });
      assert.equal((await mirrors.readAt(path, repo.commits[0]!, 'big.bin')).content?.length, 300_000);
      assert.equal(readers.started.length, 1, `${how}: still one reader`);

      // Its process killed: the read still answers, and the next read has a new reader.
      const pids = execFileSync('pgrep', ['-f', `${path} cat-file --batch`], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map(Number);
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      await waitFor(
        async () => {
          try {
            return (await mirrors.readAt(path, 'main', '.ansflow.yml')).content === 'steps: [three]\n' && readers.started.length === 2;
          } catch {
            return false;
          }
        },
        20_000,
        'a read after the reader was killed',
      );
      assert.deepEqual(await mirrors.readAt(path, 'main', '.ansflow.yml'), { commit: third, content: 'steps: [three]\n' });
      assert.equal(readers.started.length, 2, `${how}: replaced once`);
      mirrors.close();
    }
  } finally {
    await launcher.close();
    await daemon.stop();
    tmp.cleanup();
  }
});

test('a fetch and the read after it (a manual run, a pull request) are ONE started process: the branch head at that moment and its file', async () => {
  const tmp = makeTempDir();
  const daemon = await startGitDaemon(tmp.path);
  const launcher = new SpawnerLauncher();
  try {
    // A mirrors folder whose name a shell would expand or split: the read's command line is quoted.
    const root = join(tmp.path, `mir'rors $(touch ${join(tmp.path, 'expanded')}) "x"`);
    for (const [how, base] of [
      ['forked', spawnCommand],
      ['through the host spawner', launcherCommands(launcher)],
    ] as const) {
      const name = how === 'forked' ? 'app' : 'app-spawned';
      const repo = createBareRepo(tmp.path, name, { history: [{ '.ansflow.yml': 'steps: [one]\n' }] });
      const count = countingCommands(base);
      const mirrors = new RepositoryMirrors({ root: join(root, how), policy: remoteOnly, commands: count.commands });
      const url = daemon.url(name);
      await mirrors.prepare(url);
      count.started.length = 0;

      // The first read fetches everything; the next sees a commit pushed since, never a stale head.
      assert.deepEqual(await mirrors.fetchAndRead({ url }, 'main', '.ansflow.yml'), {
        mirror: mirrors.pathFor(url),
        commit: repo.commits[0],
        content: 'steps: [one]\n',
      });
      const second = push(repo.bare, 'main', { '.ansflow.yml': 'steps: [two]\n' });
      assert.deepEqual(await mirrors.fetchAndRead({ url }, 'main', '.ansflow.yml'), {
        mirror: mirrors.pathFor(url),
        commit: second,
        content: 'steps: [two]\n',
      });
      assert.deepEqual(await mirrors.fetchAndRead({ url }, 'main', 'missing.yml'), { mirror: mirrors.pathFor(url), commit: second, content: null });
      assert.equal(count.started.length, 3, `${how}: one process per read:\n${count.started.map((a) => a.join(' ')).join('\n')}`);
      assert.ok(
        count.started.every((argv) => argv[0] === 'flock' && argv.includes('fetch') && argv.some((a) => a.includes('cat-file'))),
        count.started.map((a) => a.join(' ')).join('\n'),
      );
      // It fetched into the mirror: the commit is there for git_checkout and the next reads.
      assert.equal(await mirrors.resolve(mirrors.pathFor(url), 'main'), second);
      push(repo.bare, 'main', { '.ansflow.yml': 'steps: [three]\n' });
      // The fetch happens before the read, every time (a branch's head at the moment of the read).
      assert.equal((await mirrors.fetchAndRead({ url }, 'main', '.ansflow.yml')).content, 'steps: [three]\n');

      // A pull request's ref comes in the same fetch.
      git(tmp.path, ['--git-dir', repo.bare, 'update-ref', 'refs/pull/7/head', second]);
      count.started.length = 0;
      assert.deepEqual(await mirrors.fetchAndRead({ url, extra: ['refs/pull/7/head'] }, 'refs/pull/7/head', '.ansflow.yml'), {
        mirror: mirrors.pathFor(url),
        commit: second,
        content: 'steps: [two]\n',
      });
      assert.equal(count.started.length, 1);
      // A ref the server lacks: the error names it (found by `fetch`'s own retries).
      await assert.rejects(
        mirrors.fetchAndRead({ url, extra: ['refs/pull/8/head'] }, 'refs/pull/8/head', '.ansflow.yml'),
        (e: unknown) => e instanceof MirrorError && /refs\/pull\/8\/head/.test(e.message),
      );
      await assert.rejects(mirrors.fetchAndRead({ url }, 'no-such-branch', '.ansflow.yml'), /not a branch, tag or commit/);
    }
    assert.equal(existsSync(join(tmp.path, 'expanded')), false, 'nothing of the path ran as a command');

    // The server unreachable: the fetch's error, with no second try.
    const count = countingCommands();
    const mirrors = new RepositoryMirrors({ root: join(root, 'down'), policy: remoteOnly, commands: count.commands });
    await mirrors.prepare(daemon.url('app'));
    await daemon.stop();
    count.started.length = 0;
    await assert.rejects(
      mirrors.fetchAndRead({ url: daemon.url('app') }, 'main', '.ansflow.yml'),
      (e: unknown) => e instanceof MirrorError && e.message.startsWith(`could not fetch ${daemon.url('app')}`),
    );
    assert.equal(count.started.length, 1);
  } finally {
    await launcher.close();
    await daemon.stop();
    tmp.cleanup();
  }
});

test('a private repository is fetched and read in one process with its credential; the secret is in no error', async () => {
  const tmp = makeTempDir();
  const secret = "s3cret-'pass;word";
  const server = await startHttpGitServer(tmp.path, { username: 'alice', password: secret });
  try {
    createBareRepo(tmp.path, 'private', { history: [{ '.ansflow.yml': 'steps: []\n' }] });
    const count = countingCommands();
    const mirrors = new RepositoryMirrors({ root: join(tmp.path, 'mirrors'), policy: remoteOnly, commands: count.commands });
    const url = server.url('private');
    const credential = { name: 'r', secret: { kind: 'username_password', value: { username: 'alice', password: secret } } } as ResolvedCredential;
    await mirrors.prepare(url, credential);
    count.started.length = 0;
    assert.equal((await mirrors.fetchAndRead({ url, credential }, 'main', '.ansflow.yml')).content, 'steps: []\n');
    assert.equal(count.started.length, 1);
    assert.ok(count.started.flat().every((a) => !a.includes(secret)));
    // Over HTTP git's default protocol (version 2) stays: only git daemon gets version 0.
    assert.ok(!count.started.flat().includes('protocol.version=0'), count.started.flat().join(' '));
    const wrong = { name: 'r', secret: { kind: 'username_password', value: { username: 'alice', password: 'wrong-password' } } } as ResolvedCredential;
    await assert.rejects(
      mirrors.fetchAndRead({ url, credential: wrong }, 'main', '.ansflow.yml'),
      (e: unknown) => e instanceof MirrorError && /could not fetch/.test(e.message) && !e.message.includes('wrong-password'),
    );
    assert.deepEqual(
      readdirSync(join(tmp.path, 'mirrors')).filter((f) => f.startsWith('.fetch-')),
      [],
    );
  } finally {
    await server.stop();
    tmp.cleanup();
  }
});
