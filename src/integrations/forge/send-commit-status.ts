/**
 * One commit status sent to GitHub or GitLab, as their REST APIs document it:
 *   GitHub  POST {api}/repos/{owner}/{repo}/statuses/{sha}
 *           Authorization: Bearer <token>; {state, target_url, description, context}
 *   GitLab  POST {api}/projects/{url-encoded path}/statuses/{sha}
 *           PRIVATE-TOKEN: <token>; {state, target_url, description, name}
 * The answer is sorted into: delivered; retry (the forge is down, slow, or rate-limits: when it
 * says when, `retryAt` is that moment, from Retry-After or X-RateLimit-Reset / RateLimit-Reset);
 * or failed (the forge refused this status: bad token, unknown repository or commit, invalid
 * state; sending it again would not help). The token never appears in a result.
 */
import type { Forge } from '../../domain/commit-status.js';

export interface CommitStatusRequest {
  forge: Forge;
  apiUrl: string;
  repository: string;
  sha: string;
  token: string;
  state: string;
  targetUrl: string;
  description: string;
  context: string;
}

export type SendResult =
  | { kind: 'delivered'; statusCode: number }
  | { kind: 'retry'; statusCode: number | null; error: string; retryAt: number | null }
  | { kind: 'failed'; statusCode: number; error: string };

const TIMEOUT_MS = 15_000;
/** The longest a forge's "come back later" is honoured before retrying anyway. */
const MAX_WAIT_MS = 60 * 60 * 1000;

export function commitStatusUrl(request: Pick<CommitStatusRequest, 'forge' | 'apiUrl' | 'repository' | 'sha'>): string {
  const sha = encodeURIComponent(request.sha);
  if (request.forge === 'github') {
    const [owner = '', repo = ''] = request.repository.split('/');
    return `${request.apiUrl}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/statuses/${sha}`;
  }
  return `${request.apiUrl}/projects/${encodeURIComponent(request.repository)}/statuses/${sha}`;
}

export async function sendCommitStatus(request: CommitStatusRequest, now: () => number = Date.now): Promise<SendResult> {
  const github = request.forge === 'github';
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: github ? 'application/vnd.github+json' : 'application/json',
    'user-agent': 'AnsFlow',
  };
  if (github) {
    headers.authorization = `Bearer ${request.token}`;
    headers['x-github-api-version'] = '2022-11-28';
  } else {
    headers['private-token'] = request.token;
  }
  const body = {
    state: request.state,
    target_url: request.targetUrl,
    description: request.description,
    [github ? 'context' : 'name']: request.context,
  };
  let response: Response;
  try {
    response = await fetch(commitStatusUrl(request), {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    return { kind: 'retry', statusCode: null, error: `the forge could not be reached: ${networkReason(error)}`, retryAt: null };
  }
  const text = await response.text().catch(() => '');
  const code = response.status;
  if (code >= 200 && code < 300) return { kind: 'delivered', statusCode: code };
  const message = forgeMessage(text);
  const waitUntil = retryMoment(response.headers, now());
  const rateLimited = code === 429 || (code === 403 && (waitUntil !== null || response.headers.get('x-ratelimit-remaining') === '0'));
  if (rateLimited) return { kind: 'retry', statusCode: code, error: `rate limited by the forge (HTTP ${code})${message}`, retryAt: waitUntil };
  if (code >= 500 || code === 408) return { kind: 'retry', statusCode: code, error: `the forge answered HTTP ${code}${message}`, retryAt: waitUntil };
  return { kind: 'failed', statusCode: code, error: `the forge refused the status (HTTP ${code})${message}` };
}

/** When the forge says to come back: Retry-After (seconds or a date), else the rate limit's reset time. */
export function retryMoment(headers: Headers, nowMs: number): number | null {
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter) {
    const seconds = /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : Date.parse(retryAfter) - nowMs;
    if (Number.isFinite(seconds)) return nowMs + Math.min(Math.max(seconds, 0), MAX_WAIT_MS);
  }
  const remaining = headers.get('x-ratelimit-remaining') ?? headers.get('ratelimit-remaining');
  const reset = headers.get('x-ratelimit-reset') ?? headers.get('ratelimit-reset');
  if (reset && /^\d+$/.test(reset.trim()) && (remaining === null || remaining.trim() === '0')) {
    const at = Number(reset.trim()) * 1000;
    return nowMs + Math.min(Math.max(at - nowMs, 0), MAX_WAIT_MS);
  }
  return null;
}

/** `: <the forge's message>` from a JSON error body (GitHub and GitLab both say `message`), cut short. */
function forgeMessage(text: string): string {
  let message: unknown;
  try {
    const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
    message = parsed.message ?? parsed.error;
  } catch {
    return '';
  }
  if (message === undefined || message === null) return '';
  const shown = (typeof message === 'string' ? message : JSON.stringify(message)).replace(/\s+/g, ' ').trim();
  return shown ? `: ${shown.slice(0, 300)}` : '';
}

function networkReason(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `no answer in ${TIMEOUT_MS / 1000} s`;
  return (e?.cause?.code ?? e?.cause?.message ?? e?.message ?? 'unknown error').slice(0, 200);
}
