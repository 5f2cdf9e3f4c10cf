/**
 * Starts the real management API on a free loopback port over a fresh data folder (SQLite by
 * default, PostgreSQL with `databaseUrl`), and gives tests a small typed HTTP client.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/runtime/logger.js';
import { createContext, type AppContext } from '../../src/runtime/context.js';
import { startServers, type RunningServers } from '../../src/runtime/servers.js';
import { startWorker } from '../../src/runtime/worker.js';
import type { RunWorker } from '../../src/services/runs/run-worker.js';
import type { GatewayOptions } from '../../src/http/gateway/gateway-options.js';

export interface Harness {
  ctx: AppContext;
  servers: RunningServers;
  worker: RunWorker;
  baseUrl: string;
  /** The gateway (port 8001 in production): webhooks, WebSocket, status, Jenkins. */
  gatewayUrl: string;
  dataDir: string;
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  login(username?: string, password?: string): Promise<string>;
  /** Creates a user through the service and returns an access token for them. */
  userToken(username: string, role: 'admin' | 'developer' | 'viewer'): Promise<string>;
  close(): Promise<void>;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  /** `manual`: a redirect is the answer (its status and Location), not followed. */
  redirect?: 'follow' | 'manual' | 'error';
}

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function startApi(overrides: Partial<Config> = {}, env: Record<string, string> = {}, gateway: Partial<GatewayOptions> = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ansflow-test-'));
  const config = loadConfig(
    // The metrics listener on a free port: parallel test files would all want 9464.
    { NODE_ENV: 'test', ANSFLOW_DATA_DIR: dataDir, ANSFLOW_API_PORT: '0', ANSFLOW_GATEWAY_PORT: '0', ANSFLOW_METRICS_LISTEN: '127.0.0.1:0', ...env },
    overrides,
  );
  const ctx = await createContext(config, createLogger(config.logLevel));
  await ctx.users.ensureAdmin('admin123');
  const worker = await startWorker(ctx);
  const servers = await startServers(ctx, 'all', gateway);
  const baseUrl = servers.apiUrl!;

  const request = async (method: string, path: string, options: RequestOptions = {}): Promise<TestResponse> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | Buffer | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(baseUrl + path, { method, headers, body, ...(options.redirect ? { redirect: options.redirect } : {}) });
    const text = await response.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON: tests read `text`
    }
    return { status: response.status, headers: response.headers, text, json };
  };

  const login = async (username = 'admin', password = 'admin123') => {
    const r = await request('POST', '/api/auth/login/', { body: { username, password } });
    if (r.status !== 200) throw new Error(`login as ${username} failed: ${r.status} ${r.text}`);
    return r.json.access as string;
  };

  return {
    ctx,
    servers,
    worker,
    baseUrl,
    gatewayUrl: servers.gatewayUrl!,
    dataDir,
    request,
    login,
    async userToken(username, role) {
      await ctx.users.create({ username, password: 'password-123', role });
      return login(username, 'password-123');
    },
    async close() {
      await servers.close();
      await worker.stop(0);
      await ctx.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
