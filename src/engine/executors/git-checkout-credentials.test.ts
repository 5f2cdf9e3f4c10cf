/**
 * git_checkout with credentials against real servers: OpenSSH's sshd (ssh_key, known_hosts) and
 * nginx + git http-backend behind Basic auth (username_password, token). A later shell step of the
 * same run fetches and pushes in the checkout without naming the credential, and the secret is in
 * no URL, no .git/config, no argv, no workspace file and no log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeEngineHarness, makeSpec, runWith, shell, type EngineHarness } from '../../../test/support/engine-harness.js';
import { createBareRepo, git, makeTempDir } from '../../../test/support/git-fixtures.js';
import { generateSshKey, sshServerMissing, startSshGitServer } from '../../../test/support/ssh-git-server.js';
import { nginxGitServerMissing, startNginxGitServer } from '../../../test/support/nginx-git-server.js';
import { watchCommandLines } from '../../../test/support/command-lines.js';
import type { ResolvedCredential } from '../../domain/credentials.js';
import type { StepDefinition } from '../../domain/pipeline.js';
import type { RunSpec } from '../ports.js';
import { sshTarget } from './git-checkout-auth.js';

const sshSkip = sshServerMissing() ?? undefined;
const httpSkip = nginxGitServerMissing() ?? undefined;

const checkout = (repository: string, credential: string, extra: Record<string, unknown> = {}): StepDefinition => ({
  name: 'checkout',
  type: 'git_checkout',
  config: { repository, branch: 'main', depth: 0, ...extra },
  credential,
});

/** A later step that does not name the credential: commit, push, fetch, pull through the checkout's config. */
const pushAndFetch = shell(
  'push',
  [
    'git -c user.name=Step -c user.email=step@example.invalid commit -q --allow-empty -m "from a later step"',
    'git push -q origin HEAD:refs/heads/pushed',
    'git fetch -q origin',
    'git pull -q --ff-only origin main',
    'git rev-parse HEAD',
  ].join(' && '),
);

const credentials = (c: ResolvedCredential): RunSpec['credentials'] => ({ [c.name]: c });

async function run(h: EngineHarness, spec: RunSpec) {
  const result = await runWith(h, spec);
  const workspace = (result.reporter.events.find((e) => e.kind === 'runStarted') as { workspace: string } | undefined)?.workspace ?? '';
  const logs = (await Promise.all(spec.steps.map((_, i) => result.stepLog(i)))).join('\n');
  return { ...result, workspace, logs };
}

/** Every file under `dir` (the checkout, .git included) as text. */
function allText(dir: string): string {
  let text = '';
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if (statSync(path).size < 1_000_000) text += readFileSync(path).toString('latin1');
  }
  return text;
}

/** Asserts that no piece of `secret` is in the workspace, .git/config, the logs or any argv. */
function assertNowhere(secret: string, where: { workspace: string; logs: string; argv: string[] }) {
  const pieces = secret
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length >= 8);
  for (const piece of pieces) {
    assert.ok(!readFileSync(join(where.workspace, '.git', 'config'), 'utf8').includes(piece), '.git/config holds the secret');
    assert.ok(!allText(where.workspace).includes(piece), 'a workspace file holds the secret');
    assert.ok(!where.logs.includes(piece), `the logs hold the secret:\n${where.logs}`);
    assert.deepEqual(
      where.argv.filter((l) => l.includes(piece)),
      [],
      'a command line holds the secret',
    );
  }
}

test('sshTarget reads user, host and port of ssh:// and scp-like URLs', () => {
  assert.deepEqual(sshTarget('ssh://git@example.com:2222/a/b.git'), { user: 'git', host: 'example.com', port: 2222 });
  assert.deepEqual(sshTarget('ssh://example.com/a.git'), { user: null, host: 'example.com', port: 22 });
  assert.deepEqual(sshTarget('ssh://git@[::1]:2200/a.git'), { user: 'git', host: '::1', port: 2200 });
  assert.deepEqual(sshTarget('git@github.com:org/repo.git'), { user: 'git', host: 'github.com', port: 22 });
  assert.equal(sshTarget('https://example.com/a.git'), null);
});

test('over ssh with a key and known_hosts: clones, and a later step fetches, pulls and pushes without the key anywhere', { skip: sshSkip }, async () => {
  const tmp = makeTempDir();
  const h = makeEngineHarness();
  const key = generateSshKey(tmp.path, 'deploy');
  const sshd = await startSshGitServer({ authorizedKeys: [key.publicKey] });
  const watch = watchCommandLines();
  try {
    const repo = createBareRepo(tmp.path, 'app', { history: [{ a: '1' }, { a: '2' }] });
    const credential: ResolvedCredential = {
      name: 'deploy',
      secret: { kind: 'ssh_key', value: { private_key: key.privateKey, known_hosts: sshd.knownHostsLine } },
    };
    const spec = makeSpec([checkout(sshd.url(repo.bare), 'deploy'), pushAndFetch], { credentials: credentials(credential) });
    const { outcome, workspace, logs } = await run(h, spec);
    const argv = watch.stop();
    assert.equal(outcome.status, 'success', `${logs}\n${sshd.log()}`);
    assert.equal(git(workspace, ['rev-parse', 'HEAD~1']), repo.commits[1]);
    assert.equal(git(repo.bare, ['rev-parse', 'refs/heads/pushed']), git(workspace, ['rev-parse', 'HEAD']), 'the later step pushed over ssh');
    assert.match(git(workspace, ['config', '--local', 'core.sshCommand']), /^ssh -i \S+\/\.ansflow\/git\/\d+\/id_key .*StrictHostKeyChecking=yes/);
    assert.ok(
      argv.some((l) => /^ssh .*127\.0\.0\.1/.test(l)),
      'the watcher saw ssh',
    );
    assertNowhere(key.privateKey, { workspace, logs, argv });
  } finally {
    watch.stop();
    await sshd.stop();
    h.cleanup();
    tmp.cleanup();
  }
});

/** Port 22 on another loopback address, where an scp-like URL (which cannot name a port) reaches a test sshd. */
function scpPortProblem(): string | undefined {
  if (sshSkip) return sshSkip;
  if (process.getuid?.() !== 0) return 'scp-like URLs reach port 22 only, which needs root to listen on';
  return undefined;
}

test('an scp-like URL (user@host:path) clones with the key and known_hosts for port 22', { skip: scpPortProblem() }, async () => {
  const tmp = makeTempDir();
  const h = makeEngineHarness();
  const key = generateSshKey(tmp.path, 'deploy');
  const sshd = await startSshGitServer({ authorizedKeys: [key.publicKey], host: '127.0.0.2', port: 22 });
  try {
    const repo = createBareRepo(tmp.path, 'app');
    assert.match(sshd.knownHostsLine, /^127\.0\.0\.2 ssh-ed25519 /);
    const credential: ResolvedCredential = {
      name: 'deploy',
      secret: { kind: 'ssh_key', value: { private_key: key.privateKey, known_hosts: sshd.knownHostsLine } },
    };
    const { outcome, workspace, logs } = await run(
      h,
      makeSpec([checkout(`${sshd.user}@127.0.0.2:${repo.bare}`, 'deploy')], { credentials: credentials(credential) }),
    );
    assert.equal(outcome.status, 'success', `${logs}\n${sshd.log()}`);
    assert.equal(git(workspace, ['rev-parse', 'HEAD']), repo.commits[0]);
  } finally {
    await sshd.stop();
    h.cleanup();
    tmp.cleanup();
  }
});

test('over ssh, an unknown host key fails the step saying so (never trusted on first use); a wrong key fails too', { skip: sshSkip }, async () => {
  const tmp = makeTempDir();
  const h = makeEngineHarness();
  const key = generateSshKey(tmp.path, 'deploy');
  const other = generateSshKey(tmp.path, 'other');
  const sshd = await startSshGitServer({ authorizedKeys: [key.publicKey] });
  const impostor = await startSshGitServer({ authorizedKeys: [key.publicKey] });
  try {
    const repo = createBareRepo(tmp.path, 'app');
    const unknown: ResolvedCredential = { name: 'deploy', secret: { kind: 'ssh_key', value: { private_key: key.privateKey } } };
    const first = await run(h, makeSpec([checkout(sshd.url(repo.bare), 'deploy')], { credentials: credentials(unknown) }));
    assert.equal(first.outcome.status, 'failed');
    assert.match(first.outcome.reason ?? '', new RegExp(`host key of 127\\.0\\.0\\.1:${sshd.port} is not in the credential's known_hosts`));
    assert.doesNotMatch(sshd.log(), /Accepted publickey/, 'no login happened');

    // known_hosts lists another server's key for this address: a changed host key.
    const changedLine = impostor.knownHostsLine.replace(`]:${impostor.port} `, `]:${sshd.port} `);
    const changed: ResolvedCredential = { name: 'deploy', secret: { kind: 'ssh_key', value: { private_key: key.privateKey, known_hosts: changedLine } } };
    const second = await run(h, makeSpec([checkout(sshd.url(repo.bare), 'deploy')], { credentials: credentials(changed) }));
    assert.equal(second.outcome.status, 'failed');
    assert.match(second.outcome.reason ?? '', new RegExp(`host key of 127\\.0\\.0\\.1:${sshd.port} does not match the credential's known_hosts`));

    const wrong: ResolvedCredential = {
      name: 'deploy',
      secret: { kind: 'ssh_key', value: { private_key: other.privateKey, known_hosts: sshd.knownHostsLine } },
    };
    const third = await run(h, makeSpec([checkout(sshd.url(repo.bare), 'deploy')], { credentials: credentials(wrong) }));
    assert.equal(third.outcome.status, 'failed');
    assert.match(third.outcome.reason ?? '', new RegExp(`the server at 127\\.0\\.0\\.1:${sshd.port} refused the key of credential "deploy"`));
  } finally {
    await sshd.stop();
    await impostor.stop();
    h.cleanup();
    tmp.cleanup();
  }
});

test('over ssh with a passphrase-protected key: the passphrase goes through SSH_ASKPASS, never argv; later steps fetch too', { skip: sshSkip }, async () => {
  const tmp = makeTempDir();
  const h = makeEngineHarness();
  const passphrase = 'correct horse battery staple';
  const key = generateSshKey(tmp.path, 'protected', passphrase);
  const sshd = await startSshGitServer({ authorizedKeys: [key.publicKey] });
  const watch = watchCommandLines();
  try {
    const repo = createBareRepo(tmp.path, 'app');
    const credential: ResolvedCredential = {
      name: 'protected',
      secret: { kind: 'ssh_key', value: { private_key: key.privateKey, passphrase, known_hosts: sshd.knownHostsLine } },
    };
    const spec = makeSpec([checkout(sshd.url(repo.bare), 'protected'), pushAndFetch], { credentials: credentials(credential) });
    const { outcome, workspace, logs } = await run(h, spec);
    const argv = watch.stop();
    assert.equal(outcome.status, 'success', `${logs}\n${sshd.log()}`);
    assert.equal(git(repo.bare, ['rev-parse', 'refs/heads/pushed']), git(workspace, ['rev-parse', 'HEAD']));
    assertNowhere(passphrase, { workspace, logs, argv });
    assertNowhere(key.privateKey, { workspace, logs, argv });

    const wrongPassphrase: ResolvedCredential = {
      name: 'protected',
      secret: { kind: 'ssh_key', value: { ...credential.secret.value, passphrase: 'not it' } as never },
    };
    const again = await run(h, makeSpec([checkout(sshd.url(repo.bare), 'protected')], { credentials: credentials(wrongPassphrase) }));
    assert.equal(again.outcome.status, 'failed');
  } finally {
    watch.stop();
    await sshd.stop();
    h.cleanup();
    tmp.cleanup();
  }
});

for (const kind of ['username_password', 'token'] as const) {
  test(`over http behind nginx Basic auth with ${kind}: a credential helper, never the URL; a later step fetches and pushes`, { skip: httpSkip }, async () => {
    const tmp = makeTempDir();
    const h = makeEngineHarness();
    const secret = kind === 'token' ? 'glpat-Tok3n/with+odd=chars' : 'pa ss;w0rd/with+odd=chars';
    const username = kind === 'token' ? 'x-access-token' : 'alice';
    const server = await startNginxGitServer(tmp.path, { username, password: secret });
    const watch = watchCommandLines();
    try {
      const repo = createBareRepo(tmp.path, 'app', { history: [{ a: '1' }, { a: '2' }] });
      const credential: ResolvedCredential =
        kind === 'token'
          ? { name: 'forge', secret: { kind: 'token', value: { token: secret } } }
          : { name: 'forge', secret: { kind: 'username_password', value: { username, password: secret } } };
      const spec = makeSpec([checkout(server.url('app'), 'forge'), pushAndFetch], { credentials: credentials(credential) });
      const { outcome, workspace, logs } = await run(h, spec);
      const argv = watch.stop();
      assert.equal(outcome.status, 'success', `${logs}\n${server.log()}`);
      assert.equal(git(repo.bare, ['rev-parse', 'refs/heads/pushed']), git(workspace, ['rev-parse', 'HEAD']), 'the later step pushed over http');

      const requests = server.requests();
      assert.ok(
        requests.some((r) => r.user === username && r.request.startsWith('POST /app.git/git-receive-pack')),
        JSON.stringify(requests),
      );
      assert.ok(requests.every((r) => !r.request.includes(encodeURIComponent(secret)) && !r.request.includes(secret) && !r.request.includes('@')));
      assert.equal(git(workspace, ['remote', 'get-url', 'origin']), server.url('app'));
      assert.match(
        git(workspace, ['config', '--local', '--get-all', `credential.http://127.0.0.1:${server.port}.helper`]),
        /^!\S+\/\.ansflow\/git\/\d+\/credential-helper$/,
      );
      assertNowhere(secret, { workspace, logs, argv });
    } finally {
      watch.stop();
      await server.stop();
      h.cleanup();
      tmp.cleanup();
    }
  });
}

test('over http, a wrong password fails the step saying the server refused the credential', { skip: httpSkip }, async () => {
  const tmp = makeTempDir();
  const h = makeEngineHarness();
  const server = await startNginxGitServer(tmp.path, { username: 'alice', password: 'right-password' });
  try {
    createBareRepo(tmp.path, 'app');
    const credential: ResolvedCredential = { name: 'forge', secret: { kind: 'username_password', value: { username: 'alice', password: 'wrong-password' } } };
    const { outcome, logs } = await run(h, makeSpec([checkout(server.url('app'), 'forge')], { credentials: credentials(credential) }));
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.reason ?? '', new RegExp(`the server at http://127\\.0\\.0\\.1:${server.port} refused credential "forge"`));
    assert.ok(!logs.includes('wrong-password'));
  } finally {
    await server.stop();
    h.cleanup();
    tmp.cleanup();
  }
});

test('a credential of the wrong kind for the URL fails the step clearly', async () => {
  const h = makeEngineHarness();
  try {
    const token: ResolvedCredential = { name: 'forge', secret: { kind: 'token', value: { token: 'tok-123456' } } };
    const first = await run(h, makeSpec([checkout('ssh://git@127.0.0.1:1/x.git', 'forge')], { credentials: credentials(token) }));
    assert.match(first.outcome.reason ?? '', /credential "forge" holds a token: the repository must be an https:\/\/ or http:\/\/ URL/);
    const file: ResolvedCredential = { name: 'cfg', secret: { kind: 'secret_file', value: { content: 'x' } } };
    const second = await run(h, makeSpec([checkout('https://127.0.0.1:1/x.git', 'cfg')], { credentials: credentials(file) }));
    assert.match(second.outcome.reason ?? '', /credential "cfg" is a secret file: git_checkout can use/);
  } finally {
    h.cleanup();
  }
});
