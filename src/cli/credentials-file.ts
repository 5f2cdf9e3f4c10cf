/**
 * Where `ansflow login` keeps the server URL and the personal access token it made:
 * $XDG_CONFIG_HOME/ansflow/credentials.json (~/.config/ansflow/… without it), the file 0600 and
 * its folder 0700, so other users of the machine cannot read the token.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from './cli-error.js';

export interface StoredCredentials {
  url: string;
  token: string;
  /** The token's id on the server, so `ansflow logout` can revoke it. */
  token_id: number;
  username: string;
}

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(base, 'ansflow', 'credentials.json');
}

export function readCredentials(path = credentialsPath()): StoredCredentials | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<StoredCredentials>;
    if (typeof parsed.url !== 'string' || typeof parsed.token !== 'string') throw new Error('url or token missing');
    return { url: parsed.url, token: parsed.token, token_id: Number(parsed.token_id), username: String(parsed.username ?? '') };
  } catch (error) {
    throw new CliError(`${path} is not valid (${(error as Error).message}); run ansflow login again`);
  }
}

export function writeCredentials(credentials: StoredCredentials, path = credentialsPath()): void {
  const folder = dirname(path);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  chmodSync(folder, 0o700);
  // Written beside it with 0600 from the start, then renamed: the token is never readable by others.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

export function removeCredentials(path = credentialsPath()): void {
  rmSync(path, { force: true });
}
