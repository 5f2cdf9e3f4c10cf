/**
 * A real smart-HTTP git server for credential tests: Debian's nginx with Basic auth in front of
 * `git http-backend`, run through fcgiwrap on a unix socket. Everything (config, htpasswd, pid,
 * logs, temp folders, the socket) lives in a temp folder; nginx runs in the foreground
 * (`daemon off`, one process) on 127.0.0.1. Pushes are allowed (http-backend enables receive-pack
 * for an authenticated REMOTE_USER).
 *
 * `requests()` reads nginx's access log: the request lines as received and the user each was
 * authenticated as, to prove that credentials travelled in the Authorization header, never the URL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { freePort } from './server-process.js';
import { fixtureGitEnv, makeTempDir } from './git-fixtures.js';
import { FCGIWRAP, GIT_HTTP_BACKEND, NGINX, missingTools } from './system-tools.js';

export interface NginxGitServer {
  port: number;
  /** http:// URL of `<name>.git` under the served root. */
  url(name: string): string;
  /** Access log entries: `{ user, request, status }` (user `-` when none was authenticated). */
  requests(): Array<{ user: string; request: string; status: number }>;
  /** nginx's error log and fcgiwrap's output (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export function nginxGitServerMissing(): string | null {
  return missingTools('http git server tests (nginx + fcgiwrap + git http-backend)', [NGINX, FCGIWRAP, GIT_HTTP_BACKEND]);
}

/** Serves every bare repository under `root`, to `username:password` only. */
export async function startNginxGitServer(root: string, credentials: { username: string; password: string }): Promise<NginxGitServer> {
  const tmp = makeTempDir('ansflow-nginx-');
  const port = await freePort();
  const socket = join(tmp.path, 'fcgiwrap.sock');
  const htpasswd = join(tmp.path, 'htpasswd');
  // nginx's {PLAIN} scheme: the fixture's password is no secret, and no hashing tool is needed.
  // nginx ends a password at ':' (`user:password:comment`), so the fixture cannot serve one with it.
  if (credentials.password.includes(':')) throw new Error('the nginx fixture cannot serve a password containing ":"');
  writeFileSync(htpasswd, `${credentials.username}:{PLAIN}${credentials.password}\n`);
  for (const dir of ['body', 'fastcgi', 'proxy', 'scgi', 'uwsgi']) mkdirSync(join(tmp.path, dir));
  const accessLog = join(tmp.path, 'access.log');
  const errorLog = join(tmp.path, 'error.log');
  const config = join(tmp.path, 'nginx.conf');
  writeFileSync(
    config,
    `daemon off;
master_process off;
worker_processes 1;
pid ${join(tmp.path, 'nginx.pid')};
error_log ${errorLog} info;
events { worker_connections 64; }
http {
  log_format fixture '$remote_user "$request" $status';
  access_log ${accessLog} fixture;
  client_body_temp_path ${join(tmp.path, 'body')};
  fastcgi_temp_path ${join(tmp.path, 'fastcgi')};
  proxy_temp_path ${join(tmp.path, 'proxy')};
  scgi_temp_path ${join(tmp.path, 'scgi')};
  uwsgi_temp_path ${join(tmp.path, 'uwsgi')};
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 0;
    location / {
      auth_basic "fixture";
      auth_basic_user_file ${htpasswd};
      fastcgi_pass unix:${socket};
      fastcgi_param SCRIPT_FILENAME ${GIT_HTTP_BACKEND.path};
      fastcgi_param GIT_PROJECT_ROOT ${root};
      fastcgi_param GIT_HTTP_EXPORT_ALL "";
      fastcgi_param GIT_CONFIG_NOSYSTEM 1;
      fastcgi_param HOME ${tmp.path};
      fastcgi_param PATH_INFO $uri;
      fastcgi_param QUERY_STRING $query_string;
      fastcgi_param REQUEST_METHOD $request_method;
      fastcgi_param CONTENT_TYPE $content_type;
      fastcgi_param CONTENT_LENGTH $content_length;
      fastcgi_param REMOTE_USER $remote_user;
      fastcgi_param REMOTE_ADDR $remote_addr;
      fastcgi_param HTTP_GIT_PROTOCOL $http_git_protocol;
    }
  }
}
`,
  );

  let output = '';
  const collect = (child: ChildProcess) => {
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  };
  // Each leads a process group of its own, so that stop() also ends the children they fork
  // (fcgiwrap's -c workers hold its output pipes and would keep the test process alive).
  const fcgiwrap = spawn(FCGIWRAP.path, ['-c', '2', '-s', `unix:${socket}`], {
    env: fixtureGitEnv(tmp.path),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  collect(fcgiwrap);
  const nginx = spawn(NGINX.path, ['-e', errorLog, '-p', tmp.path, '-c', config], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  collect(nginx);
  const children = [fcgiwrap, nginx];
  const log = () => `${output}${existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : ''}`;
  const stop = async () => {
    await Promise.all(children.map((c) => stopChild(c)));
    tmp.cleanup();
  };
  try {
    await waitUntil(() => existsSync(socket), children, log, 'fcgiwrap socket');
    await waitUntil(() => connects(port), children, log, `nginx on 127.0.0.1:${port}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    url: (name) => `http://127.0.0.1:${port}/${name}.git`,
    requests: () =>
      (existsSync(accessLog) ? readFileSync(accessLog, 'utf8') : '')
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const m = /^(\S+) "(.*)" (\d+)$/.exec(line);
          return { user: m?.[1] ?? '', request: m?.[2] ?? line, status: Number(m?.[3] ?? 0) };
        }),
    log,
    stop,
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  const group = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is gone
    }
  };
  const closePipes = () => {
    child.stdout?.destroy();
    child.stderr?.destroy();
  };
  if (child.exitCode !== null || child.signalCode !== null) {
    group('SIGKILL');
    closePipes();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    child.once('exit', () => {
      // What the leader forked and left behind goes too.
      group('SIGKILL');
      closePipes();
      resolve();
    });
    // nginx stops at once on SIGTERM ("fast shutdown"); fcgiwrap exits on it too.
    group('SIGTERM');
  });
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntil(check: () => boolean | Promise<boolean>, children: ChildProcess[], log: () => string, what: string, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = children.find((c) => c.exitCode !== null || c.signalCode !== null);
    if (dead) throw new Error(`${dead.spawnfile} exited before ${what} was ready:\n${log()}`);
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${log()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
