/**
 * `ansflow login`: exchanges a username and password for a personal access token named after this
 * machine (`ansflow-cli@<hostname>`, the user's full scopes, DEFAULT_TOKEN_DAYS) and stores it
 * with the server URL (credentials-file.ts); every command that calls the API then uses it.
 * `ansflow logout` revokes that token on the server and removes the file.
 */
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { ApiClient } from './api-client.js';
import { CliError } from './cli-error.js';
import { parseOptions } from './options.js';
import { credentialsPath, readCredentials, removeCredentials, writeCredentials } from './credentials-file.js';

const LOGIN_HELP = `Usage: ansflow login [--url URL] [--user NAME] [--password-stdin]

Logs in and stores a personal access token (ansflow-cli@<hostname>, your full scopes, 90 days)
with the server URL in $XDG_CONFIG_HOME/ansflow/credentials.json (~/.config/ansflow/… by default,
mode 0600). Commands such as ansflow run use it. Asks for what the options do not give.

Options:
  --url <url>        the API address (ANSFLOW_URL; default http://127.0.0.1:8000)
  --user <name>      username (ANSFLOW_USER)
  --password-stdin   read the password from standard input (else ANSFLOW_PASSWORD or a prompt)`;

const LOGOUT_HELP = `Usage: ansflow logout

Revokes the token ansflow login stored and removes the credentials file.`;

type UserBody = { role: 'admin' | 'developer' | 'viewer'; username: string };
type TokenBody = { id: number; token: string };

const ROLE_SCOPES: Record<UserBody['role'], string[]> = { admin: ['read', 'run', 'write', 'admin'], developer: ['read', 'run', 'write'], viewer: ['read'] };

export async function loginCommand(argv: string[]): Promise<number> {
  const parsed = parseOptions(argv, { url: { type: 'string' }, user: { type: 'string' }, 'password-stdin': { type: 'boolean' } }, LOGIN_HELP);
  if (!parsed) return 0;
  const v = parsed.values;
  const prompt = new Prompt();
  try {
    const url = (v.url ?? process.env.ANSFLOW_URL ?? (await prompt.ask('Server URL [http://127.0.0.1:8000]: ')) ?? '').trim() || 'http://127.0.0.1:8000';
    if (!/^https?:\/\/[^\s]+$/.test(url)) throw new CliError(`"${url}" is not an http(s) URL`);
    const username = (v.user ?? process.env.ANSFLOW_USER ?? (await prompt.ask('Username: ')) ?? '').trim();
    if (!username) throw new CliError('no username given');
    const password = v['password-stdin'] ? await prompt.line() : (process.env.ANSFLOW_PASSWORD ?? (await prompt.ask('Password: ')));
    if (!password) throw new CliError('no password given');

    const base = url.replace(/\/+$/, '');
    const api = new ApiClient(base);
    await api.login(username, password);
    const me = (await api.call('GET', '/api/users/me/')) as UserBody;
    const created = (await api.call('POST', '/api/users/me/tokens/', { name: `ansflow-cli@${hostname()}`, scopes: ROLE_SCOPES[me.role] })) as TokenBody;
    writeCredentials({ url: base, token: created.token, token_id: created.id, username: me.username });
    console.error(`Logged in to ${base} as ${me.username}; token stored in ${credentialsPath()}.`);
    return 0;
  } finally {
    prompt.close();
  }
}

export async function logoutCommand(argv: string[]): Promise<number> {
  if (!parseOptions(argv, {}, LOGOUT_HELP)) return 0;
  const stored = readCredentials();
  if (!stored) {
    console.error('Not logged in.');
    return 0;
  }
  const api = new ApiClient(stored.url, stored.token);
  const response = await api.raw('DELETE', `/api/users/me/tokens/${stored.token_id}/`);
  // 401/404: the token is already gone (revoked or expired): the file goes all the same.
  if (!response.ok && response.status !== 401 && response.status !== 404) throw new CliError(`could not revoke the token: HTTP ${response.status}`);
  removeCredentials();
  console.error(`Logged out of ${stored.url}.`);
  return 0;
}

/** Lines from standard input: questions on a terminal, or plain lines when piped. */
class Prompt {
  private rl: ReturnType<typeof createInterface> | null = null;
  private readonly lines: string[] = [];
  private readonly waiting: Array<(line: string | null) => void> = [];
  private ended = false;

  private open() {
    if (this.rl) return;
    this.rl = createInterface({ input: process.stdin, terminal: false });
    this.rl.on('line', (line) => {
      const next = this.waiting.shift();
      if (next) next(line);
      else this.lines.push(line);
    });
    this.rl.on('close', () => {
      this.ended = true;
      for (const w of this.waiting.splice(0)) w(null);
    });
  }

  line(): Promise<string | null> {
    this.open();
    if (this.lines.length > 0) return Promise.resolve(this.lines.shift()!);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Asks on standard error (only on a terminal: piped input must come through the options). */
  async ask(question: string): Promise<string | null> {
    if (!process.stdin.isTTY)
      throw new CliError(
        `missing ${question
          .replace(/[:[].*$/, '')
          .trim()
          .toLowerCase()}: give it as an option`,
      );
    process.stderr.write(question);
    return this.line();
  }

  close() {
    this.rl?.close();
  }
}
