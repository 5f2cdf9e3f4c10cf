/**
 * Helpers for end-to-end gateway tests: a harness with the fixtures' webhook secrets, raw HTTP to
 * the gateway, pipelines to deliver to, signed deliveries, and a WebSocket client that records what it receives.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { startApi, type Harness, type TestResponse } from '../support/api-harness.js';
import { readFixture } from '../support/fixtures.js';
import { signGithubBody } from '../../src/integrations/github/verify-signature.js';
import type { Config } from '../../src/config.js';
import type { GatewayOptions } from '../../src/http/gateway/gateway-options.js';

export const GITHUB_SECRET = 'test-webhook-secret';
export const GITLAB_TOKEN = 'test-gitlab-token';

export function startGateway(overrides: Partial<Config> = {}, env: Record<string, string> = {}, gateway: Partial<GatewayOptions> = {}): Promise<Harness> {
  return startApi(
    overrides,
    { ANSFLOW_GITHUB_WEBHOOK_SECRET: GITHUB_SECRET, ANSFLOW_GITLAB_WEBHOOK_TOKEN: GITLAB_TOKEN, ...env },
    { webhookRateLimit: 100_000, wsHandshakeRateLimit: 100_000, ...gateway },
  );
}

/** Creates a pipeline through the API (201 expected) and returns its id. */
export async function createPipeline(h: Harness, token: string, body: Record<string, unknown>): Promise<number> {
  const r = await h.request('POST', '/api/pipelines/', { token, body });
  assert.equal(r.status, 201, r.text);
  return r.json.id as number;
}

/** A pipeline that webhooks for `repository_url` trigger, with one step that succeeds. */
export function createWebhookPipeline(
  h: Harness,
  token: string,
  pipeline: { name: string; repository_url: string; branch: string; trigger_events: string[] },
): Promise<number> {
  return createPipeline(h, token, { ...pipeline, steps: [{ name: 's', type: 'shell_command', config: { command: 'true' } }] });
}

/** How many runs a pipeline has. */
export async function runCount(h: Harness, token: string, pipelineId: number): Promise<number> {
  return (await h.request('GET', `/api/pipelines/${pipelineId}/runs/`, { token })).json.count as number;
}

let pushes: { PUSH: Buffer; GL_PUSH: Buffer } | undefined;
/**
 * The push deliveries the webhook tests send: GitHub's (Codertocat/Hello-World, master) and
 * GitLab's (gitlab-org/hello-world, master). Read on first use, so importing this module needs no fixtures.
 */
export function pushFixtures(): { PUSH: Buffer; GL_PUSH: Buffer } {
  pushes ??= {
    PUSH: readFixture('webhooks', 'github', 'push.go-scm.json'),
    GL_PUSH: readFixture('webhooks', 'gitlab', 'push.go-scm.json'),
  };
  return pushes;
}

export async function gatewayRequest(
  h: Harness,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer; token?: string } = {},
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(h.gatewayUrl + path, { method, headers, ...(options.body !== undefined ? { body: options.body } : {}) });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, text, json };
}

export function githubHeaders(body: Buffer | string, event: string, delivery: string = randomUUID()): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-github-event': event,
    'x-github-delivery': delivery,
    'x-hub-signature-256': signGithubBody(GITHUB_SECRET, Buffer.from(body)),
  };
}

export function gitlabHeaders(event: string, key: string = randomUUID()): Record<string, string> {
  return { 'content-type': 'application/json', 'x-gitlab-event': event, 'x-gitlab-token': GITLAB_TOKEN, 'idempotency-key': key };
}

export const postGithub = (h: Harness, body: Buffer | string, headers: Record<string, string>) =>
  gatewayRequest(h, 'POST', '/api/v1/webhooks/github', { headers, body });
export const postGitlab = (h: Harness, body: Buffer | string, headers: Record<string, string>) =>
  gatewayRequest(h, 'POST', '/api/v1/webhooks/gitlab', { headers, body });

export interface Recorded {
  messages: any[];
  closed: Promise<{ code: number; reason: string }>;
  socket: WebSocket;
  /** Resolves with the first message matching `predicate` (already received or future). */
  next(predicate: (m: any) => boolean, timeoutMs?: number): Promise<any>;
}

export function connectWs(url: string, headers: Record<string, string> = {}): Promise<Recorded> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    const messages: any[] = [];
    const waiters: Array<{ predicate: (m: any) => boolean; resolve: (m: any) => void }> = [];
    const closed = new Promise<{ code: number; reason: string }>((r) => socket.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      messages.push(message);
      for (const w of [...waiters])
        if (w.predicate(message)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(message);
        }
    });
    socket.on('error', reject);
    socket.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    socket.on('open', () =>
      resolve({
        messages,
        closed,
        socket,
        next(predicate, timeoutMs = 15000) {
          const found = messages.find(predicate);
          if (found) return Promise.resolve(found);
          return new Promise((res, rej) => {
            const timer = setTimeout(() => rej(new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages).slice(0, 2000)}`)), timeoutMs);
            waiters.push({ predicate, resolve: (m) => (clearTimeout(timer), res(m)) });
          });
        },
      }),
    );
  });
}

export const wsUrl = (h: Harness, path: string) => h.gatewayUrl.replace(/^http/, 'ws') + path;
