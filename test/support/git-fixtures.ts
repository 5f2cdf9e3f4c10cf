/**
 * Real git repositories and servers for tests: repositories with commits, bare copies, a
 * `git daemon` on loopback (git://), and a smart-HTTP server with Basic auth (http://) built on
 * `git http-backend`. Every helper runs git with an isolated configuration (no system or user
 * config). Call the returned `stop()`/`cleanup()` in `finally`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { freePort } from './server-process.js';

export interface TempDir {
  path: string;
  cleanup(): void;
}

export function makeTempDir(prefix = 'ansflow-git-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** An environment for fixture git commands: no system/user config, fixed identity. */
export function fixtureGitEnv(home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Fixture',
    GIT_AUTHOR_EMAIL: 'fixture@example.invalid',
    GIT_COMMITTER_NAME: 'Fixture',
    GIT_COMMITTER_EMAIL: 'fixture@example.invalid',
    GIT_TERMINAL_PROMPT: '0',
  };
}

export function git(cwd: string, args: string[], home = cwd): string {
  return execFileSync('git', args, { cwd, env: fixtureGitEnv(home), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export interface FixtureRepo {
  /** The bare repository's path. */
  bare: string;
  /** file:// URL of the bare repository. */
  fileUrl: string;
  /** Commit SHAs, oldest first, on `branch`. */
  commits: string[];
  branch: string;
}

/**
 * Creates `<root>/<name>.git` (bare) with one commit per entry of `history` on `branch`; each
 * entry maps file paths to contents. Extra branches get one extra commit each.
 */
export function createBareRepo(
  root: string,
  name: string,
  options: { branch?: string; history?: Array<Record<string, string>>; extraBranches?: string[] } = {},
): FixtureRepo {
  const branch = options.branch ?? 'main';
  const history = options.history ?? [{ 'README.md': `# ${name}\n` }];
  const work = join(root, `${name}.work`);
  mkdirSync(work, { recursive: true });
  git(work, ['init', '-q', '-b', branch]);
  const commits: string[] = [];
  history.forEach((files, i) => {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(work, path)), { recursive: true });
      writeFileSync(join(work, path), content);
    }
    git(work, ['add', '-A']);
    git(work, ['commit', '-q', '--allow-empty', '-m', `commit ${i + 1}`]);
    commits.push(git(work, ['rev-parse', 'HEAD']));
  });
  for (const extra of options.extraBranches ?? []) {
    git(work, ['checkout', '-q', '-b', extra, branch]);
    writeFileSync(join(work, 'BRANCH'), extra);
    git(work, ['add', '-A']);
    git(work, ['commit', '-q', '-m', `on ${extra}`]);
    git(work, ['checkout', '-q', branch]);
  }
  const bare = join(root, `${name}.git`);
  git(root, ['clone', '-q', '--bare', work, bare]);
  rmSync(work, { recursive: true, force: true });
  return { bare, fileUrl: `file://${bare}`, commits, branch };
}

/** Adds a submodule (by URL) to a bare repository's branch, as a new commit. Returns its SHA. */
export function addSubmodule(repo: FixtureRepo, submoduleUrl: string, path: string): string {
  const work = `${repo.bare}.sub-work`;
  git(dirname(repo.bare), ['clone', '-q', '-b', repo.branch, repo.bare, work]);
  git(work, ['-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', '--', submoduleUrl, path]);
  git(work, ['commit', '-q', '-m', `add submodule ${path}`]);
  git(work, ['push', '-q', 'origin', repo.branch]);
  const sha = git(work, ['rev-parse', 'HEAD']);
  rmSync(work, { recursive: true, force: true });
  repo.commits.push(sha);
  return sha;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`git daemon exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`git daemon did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface GitServer {
  /** URL of `<name>.git` on this server. */
  url(name: string): string;
  stop(): Promise<void>;
}

/** `git daemon` serving every repository under `basePath` on 127.0.0.1 (git://). */
export async function startGitDaemon(basePath: string): Promise<GitServer> {
  const port = await freePort();
  const child = spawn(
    'git',
    [
      'daemon',
      '--export-all',
      `--base-path=${basePath}`,
      '--listen=127.0.0.1',
      `--port=${port}`,
      '--reuseaddr',
      '--enable=upload-pack',
      '--informative-errors',
      basePath,
    ],
    { env: fixtureGitEnv(basePath), stdio: 'ignore' },
  );
  await waitForPort(port, child);
  return {
    url: (name) => `git://127.0.0.1:${port}/${name}.git`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface HttpGitServer extends GitServer {
  /** The Authorization headers the server received (to prove credentials arrived). */
  authorizations: string[];
  /** Request URLs as received (to prove credentials were never put in the URL). */
  requestUrls: string[];
}

/** Smart HTTP (`git http-backend`) over loopback, requiring Basic auth `username:password`. */
export async function startHttpGitServer(basePath: string, credentials: { username: string; password: string }): Promise<HttpGitServer> {
  const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  const authorizations: string[] = [];
  const requestUrls: string[] = [];
  const server: Server = createServer((req, res) => {
    requestUrls.push(req.url ?? '');
    const auth = req.headers.authorization;
    if (auth) authorizations.push(auth);
    if (auth !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fixture"' }).end();
      return;
    }
    serveCgi(basePath, req, (status, headers, body) => {
      res.writeHead(status, headers);
      body.pipe(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}.git`,
    authorizations,
    requestUrls,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function serveCgi(
  basePath: string,
  req: IncomingMessage,
  respond: (status: number, headers: Record<string, string>, body: NodeJS.ReadableStream) => void,
): void {
  const url = new URL(req.url ?? '/', 'http://fixture');
  const child = spawn('git', ['http-backend'], {
    env: {
      ...fixtureGitEnv(basePath),
      GIT_PROJECT_ROOT: basePath,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: 'fixture',
      REMOTE_ADDR: '127.0.0.1',
      HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
      HTTP_GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  req.pipe(child.stdin!);
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end === -1) return;
    child.stdout!.off('data', onData);
    child.stdout!.pause();
    const headers: Record<string, string> = {};
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else headers[name] = value;
    }
    const rest = head.subarray(end + 4);
    const body = new PassThrough();
    body.write(rest);
    child.stdout!.pipe(body);
    respond(status, headers, body);
  };
  child.stdout!.on('data', onData);
}
