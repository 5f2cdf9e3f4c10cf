/** A small client of the management API for CLI commands (they go through the API like any user). */
import { CliError } from './cli-error.js';

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private token: string | null = null,
  ) {}

  /** The access token in use (after a password login, the one it gave), for the gateway's WebSocket. */
  get accessToken(): string | null {
    return this.token;
  }

  async login(username: string, password: string): Promise<void> {
    const r = await this.call('POST', '/api/auth/login/', { username, password });
    this.token = (r as { access: string }).access;
  }

  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await this.raw(method, path, body);
    if (!response.ok) throw await ApiClient.failure(method, path, response);
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  }

  /** A response that is not ok, as the CliError `call` throws: the API's code, message and details. */
  static async failure(method: string, path: string, response: Response): Promise<CliError> {
    const text = await response.text();
    let message = text;
    try {
      const error = JSON.parse(text).error;
      message = `${error.code}: ${error.message}${error.details && Object.keys(error.details).length ? ` ${JSON.stringify(error.details)}` : ''}`;
    } catch {
      // not the error body: show the text
    }
    return new CliError(`${method} ${path} → ${response.status} ${message}`);
  }

  async raw(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(this.baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      throw new CliError(`cannot reach ${this.baseUrl}: ${(error as Error).cause ?? (error as Error).message}`);
    }
  }
}

export interface ConnectOptions {
  url?: string | undefined;
  token?: string | undefined;
  user?: string | undefined;
  passwordStdin?: boolean | undefined;
}

/**
 * The API client a command uses, authenticated in this order: --token or ANSFLOW_TOKEN; the token
 * `ansflow login` stored (unless --url/ANSFLOW_URL names another server); a password login as
 * --user/ANSFLOW_USER (default admin) with ANSFLOW_PASSWORD, --password-stdin or a prompt.
 */
export async function connectApi(options: ConnectOptions): Promise<ApiClient> {
  const { readCredentials } = await import('./credentials-file.js');
  const explicitUrl = options.url ?? process.env.ANSFLOW_URL;
  const token = options.token ?? process.env.ANSFLOW_TOKEN;
  const stored = token ? null : readCredentials();
  const url = (explicitUrl ?? stored?.url ?? 'http://127.0.0.1:8000').replace(/\/+$/, '');
  if (token) return new ApiClient(url, token);
  if (stored && stored.url === url) return new ApiClient(url, stored.token);
  const { readPassword } = await import('./read-password.js');
  const api = new ApiClient(url);
  const password = process.env.ANSFLOW_PASSWORD ?? (await readPassword(options.passwordStdin === true));
  await api.login(options.user ?? process.env.ANSFLOW_USER ?? 'admin', password);
  return api;
}
