/**
 * How git_checkout authenticates with the credential its step names, for the clone and for every
 * later step of the run that fetches, pulls or pushes in the checkout:
 *
 *   ssh_key + ssh:// or user@host:path   the key and the credential's known_hosts, strict host key
 *                                         checking (an unknown host fails, never trusted on first
 *                                         use); GIT_SSH_COMMAND for the checkout, core.sshCommand
 *                                         in the checkout's local config for later steps.
 *   username_password or token + http(s) a git credential helper, scoped to the repository's origin
 *                                         (`credential.<origin>.helper`), answering from a 0600 file;
 *                                         the URL never carries the secret.
 *
 * The files live in `$HOME/.ansflow/git/<step id>/` for the whole run (later steps need them), in
 * the run's HOME, so neither the workspace nor .git/config ever holds a secret: the config only
 * points at them.
 */
import { join } from 'node:path';
import type { ResolvedCredential } from '../../domain/credentials.js';
import type { FileOwner } from '../ports.js';
import { privateFolder, writePrivateFile } from '../credentials/private-files.js';
import { shellQuote } from '../credentials/shell-quote.js';
import { writeSshFiles } from '../credentials/ssh-files.js';

export interface CheckoutAuth {
  /** Variables for every git call of the checkout (GIT_SSH_COMMAND). */
  env: Record<string, string>;
  /** `-c key=value` for every git call of the checkout (also passed on to submodule fetches). */
  configArgs: string[];
  /** Written into the checkout's local config, in order (`--replace-all` first, then `--add`). */
  persist: Array<{ key: string; values: string[] }>;
  /** Turns a failed git call's output into a clear reason, when it is an authentication failure. */
  explain(output: string): string | undefined;
}

/** Where an ssh URL connects to: user, host and port (22 unless the URL says). */
export function sshTarget(url: string): { user: string | null; host: string; port: number } | null {
  const ssh = /^ssh:\/\/(?:([^@/]+)@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?\//i.exec(url);
  if (ssh) return { user: ssh[1] ?? null, host: ssh[2]!.replace(/^\[|\]$/g, ''), port: ssh[3] ? Number(ssh[3]) : 22 };
  const scp = /^(?:([A-Za-z0-9._~-]+)@)?([A-Za-z0-9.-]+):(?!\/\/)/.exec(url);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return { user: scp[1] ?? null, host: scp[2]!, port: 22 };
  return null;
}

export async function prepareCheckoutAuth(input: {
  credential: ResolvedCredential;
  repository: string;
  home: string;
  stepId: number;
  owner?: FileOwner | undefined;
}): Promise<CheckoutAuth | { problem: string }> {
  const { credential, repository, owner } = input;
  const { secret } = credential;
  const named = `credential "${credential.name}"`;
  const folder = () => privateFolder(input.home, ['.ansflow', 'git', String(input.stepId)], owner, { fresh: true });

  if (secret.kind === 'ssh_key') {
    const target = sshTarget(repository);
    if (!target) return { problem: `${named} is an ssh key: the repository must be an ssh:// or user@host:path URL` };
    const ssh = await writeSshFiles(await folder(), secret.value, owner, { ...(target.user === null && { user: secret.value.username ?? 'git' }) });
    const where = `${target.host}:${target.port}`;
    return {
      env: { GIT_SSH_COMMAND: ssh.commandWithEnv },
      configArgs: [],
      persist: [{ key: 'core.sshCommand', values: [ssh.commandWithEnv] }],
      explain: (output) => {
        if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(output)) return `host key of ${where} does not match the credential's known_hosts`;
        if (/Host key verification failed|host key is known for/i.test(output)) return `host key of ${where} is not in the credential's known_hosts`;
        if (/Permission denied \(publickey/.test(output)) return `the server at ${where} refused the key of ${named}`;
        return undefined;
      },
    };
  }
  if (secret.kind === 'username_password' || secret.kind === 'token') {
    const origin = httpOrigin(repository);
    if (!origin)
      return { problem: `${named} holds a ${secret.kind === 'token' ? 'token' : 'user name and password'}: the repository must be an https:// or http:// URL` };
    const username = secret.kind === 'token' ? (secret.value.username ?? 'x-access-token') : secret.value.username;
    const password = secret.kind === 'token' ? secret.value.token : secret.value.password;
    // git's credential protocol is line-based: a newline would let a value add fields of its own.
    if (/[\n\r\0]/.test(username + password)) return { problem: `${named} contains a line break, which git cannot send` };
    const dir = await folder();
    const answer = join(dir, 'credential');
    const helper = join(dir, 'credential-helper');
    await writePrivateFile(answer, `username=${username}\npassword=${password}\n`, owner);
    await writePrivateFile(helper, helperScript(answer, origin), owner, 0o700);
    const key = `credential.${origin}.helper`;
    // An empty value first resets any helper configured elsewhere (none may store the secret).
    const values = ['', `!${shellQuote(helper)}`];
    return {
      env: {},
      configArgs: values.flatMap((v) => ['-c', `${key}=${v}`]),
      persist: [{ key, values }],
      explain: (output) =>
        /Authentication failed|HTTP 401|HTTP 403|could not read Username/i.test(output) ? `the server at ${origin} refused ${named}` : undefined,
    };
  }
  return { problem: `${named} is a ${secret.kind.replace(/_/g, ' ')}: git_checkout can use an ssh key, a user name and password, or a token` };
}

function httpOrigin(url: string): string | null {
  if (!/^https?:\/\//i.test(url)) return null;
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

function helperScript(answer: string, origin: string): string {
  return `#!/bin/sh
# Written by AnsFlow: git's credential helper for ${origin} in this run's checkout. It answers from
# a 0600 file in the run's HOME, so the secret is neither in the repository URL nor in .git/config.
[ "$1" = get ] || exit 0
while IFS= read -r line && [ -n "$line" ]; do :; done
exec cat -- ${shellQuote(answer)}
`;
}
