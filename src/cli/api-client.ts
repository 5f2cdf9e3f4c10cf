/** A small client of the management API for CLI commands (they go through the API like any user). */
import { CliError } from './cli-error.js';

export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private token: string | null = null,
  ) {}

  async login(username: string, password: string): Promise<void> {
    const r = await this.call('POST', '/api/auth/login/', { username, password });
    this.token = (r as { access: string }).access;
  }

  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await this.raw(method, path, body);
    const text = await response.text();
    if (!response.ok) {
      let message = text;
      try {
        const error = JSON.parse(text).error;
        message = `${error.code}: ${error.message}${error.details && Object.keys(error.details).length ? ` ${JSON.stringify(error.details)}` : ''}`;
      } catch {
        // not the error body: show the text
      }
      throw new CliError(`${method} ${path} → ${response.status} ${message}`);
    }
    return text ? JSON.parse(text) : null;
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
