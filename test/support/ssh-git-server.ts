/**
 * A real OpenSSH server (Debian's openssh-server) serving git repositories over ssh on loopback,
 * for credential tests: a generated host key, the test's own authorized keys, no PAM, no
 * passwords. It runs in the foreground (`sshd -D -e -f <config>`) as the test's user; clients log
 * in as that user and reach repositories by absolute path (`ssh://user@127.0.0.1:PORT/abs/repo.git`).
 *
 * Everything it needs is in a temp folder (config, host key, authorized_keys with StrictModes off).
 * As root, sshd also needs its privilege separation folder /run/sshd (what Debian's service makes).
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './server-process.js';
import { makeTempDir } from './git-fixtures.js';
import { SSH, SSH_KEYGEN, SSHD, missingTools } from './system-tools.js';

export interface SshKeyPair {
  /** OpenSSH private key text (encrypted when a passphrase was given). */
  privateKey: string;
  /** `ssh-ed25519 AAAA… comment` */
  publicKey: string;
}

export interface SshGitServer {
  host: string;
  port: number;
  /** The user clients log in as (the test's own). */
  user: string;
  /** The known_hosts line of this server's host key (`[127.0.0.1]:PORT ssh-ed25519 …`). */
  knownHostsLine: string;
  /** ssh:// URL of a bare repository given by absolute path. */
  url(barePath: string): string;
  /** Lets another key in. */
  authorize(publicKey: string): void;
  /** What sshd logged (connections, refused keys). */
  log(): string;
  stop(): Promise<void>;
}

/** Why these tests cannot run here (skipped loudly; an error under CI=true), or null. */
export function sshServerMissing(): string | null {
  return missingTools('ssh git server tests', [SSHD, SSH, SSH_KEYGEN]);
}

/** A fresh ed25519 key pair, with an optional passphrase. */
export function generateSshKey(dir: string, name: string, passphrase = ''): SshKeyPair {
  const path = join(dir, name);
  execFileSync(SSH_KEYGEN.path, ['-q', '-t', 'ed25519', '-N', passphrase, '-C', name, '-f', path], { stdio: 'ignore' });
  return { privateKey: readFileSync(path, 'utf8'), publicKey: readFileSync(`${path}.pub`, 'utf8').trim() };
}

export async function startSshGitServer(options: { authorizedKeys: string[]; host?: string; port?: number }): Promise<SshGitServer> {
  const tmp = makeTempDir('ansflow-sshd-');
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const user = userInfo().username;
  const hostKey = join(tmp.path, 'host_key');
  execFileSync(SSH_KEYGEN.path, ['-q', '-t', 'ed25519', '-N', '', '-C', 'fixture-host', '-f', hostKey], { stdio: 'ignore' });
  const authorizedKeys = join(tmp.path, 'authorized_keys');
  writeFileSync(authorizedKeys, options.authorizedKeys.map((k) => `${k}\n`).join(''));
  const config = join(tmp.path, 'sshd_config');
  writeFileSync(
    config,
    [
      `ListenAddress ${host}:${port}`,
      `HostKey ${hostKey}`,
      'PidFile none',
      `AuthorizedKeysFile ${authorizedKeys}`,
      'StrictModes no',
      'UsePAM no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${user}`,
      'PermitUserEnvironment no',
      'AllowTcpForwarding no',
      'X11Forwarding no',
      'PrintMotd no',
      'LogLevel VERBOSE',
      // bash run by sshd reads ~/.bashrc when SHLVL is below 2; a developer's or CI image's
      // bashrc (pyenv, nvm…) then costs a second or more on every git command.
      'SetEnv SHLVL=1',
      '',
    ].join('\n'),
  );
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const child = spawn(SSHD.path, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForListening(
      host,
      port,
      () => child.exitCode !== null || child.signalCode !== null,
      () => log,
    );
  } catch (error) {
    child.kill('SIGKILL');
    tmp.cleanup();
    throw error;
  }
  const hostPublic = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const hostName = port === 22 ? host : `[${host}]:${port}`;
  return {
    host,
    port,
    user,
    knownHostsLine: `${hostName} ${hostPublic}`,
    url: (barePath) => `ssh://${user}@${host}:${port}${barePath}`,
    authorize: (publicKey) => appendFileSync(authorizedKeys, `${publicKey}\n`),
    log: () => log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      tmp.cleanup();
    },
  };
}

async function waitForListening(host: string, port: number, exited: () => boolean, log: () => string, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited()) throw new Error(`sshd exited before listening:\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on ${host}:${port}:\n${log()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
