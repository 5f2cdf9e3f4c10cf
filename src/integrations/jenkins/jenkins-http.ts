/**
 * The transport under the Jenkins client: Basic auth with an API token, a timeout on every
 * request, CSRF crumbs on POSTs, and every failure turned into a JenkinsError.
 *
 * Crumbs: `GET crumbIssuer/api/json` answers `{crumbRequestField, crumb}` and a session cookie.
 * Since Jenkins 2.176 the crumb is bound to that HTTP session, so each POST sends both the crumb
 * header and the cookie. The pair is cached; a POST answered 403 fetches a fresh pair and is sent
 * once more (the session may have expired, or Jenkins restarted). A 404 from the crumb issuer
 * means CSRF protection is off: POSTs then go without a crumb.
 *
 * Redirects are never followed: Jenkins answers triggers with 201/303 + Location and stop with
 * 302, and those headers are the answer.
 */
import { coerceError } from '../../domain/errors.js';
import { isObject } from '../payload-read.js';
import { JenkinsError, type JenkinsErrorReason } from './jenkins-error.js';

export interface JenkinsHttpOptions {
  /** Base URL of the controller, with its context path if any (`https://ci.example.com/jenkins/`). */
  url: string;
  /** With `token`, sent as Basic auth on every request; both null for an anonymous Jenkins. */
  user: string | null;
  /** API token (or password). */
  token: string | null;
  /** Per-request timeout, body included. Default 10 s. */
  timeoutMs?: number;
}

export interface JenkinsRequest {
  method: 'GET' | 'POST';
  /** Path relative to the base URL, without a leading slash (`job/a/api/json`). */
  path: string;
  query?: URLSearchParams;
  form?: URLSearchParams;
  signal?: AbortSignal;
  /** What the request is, for error messages (`trigger folder-a/my-job`). */
  what: string;
}

interface Crumb {
  field: string;
  value: string;
  cookie: string | null;
}

export class JenkinsHttp {
  readonly baseUrl: URL;
  private readonly authorization: string | null;
  private readonly timeoutMs: number;
  /** undefined: not fetched yet; null: this Jenkins issues no crumbs. */
  private crumb: Promise<Crumb | null> | undefined;

  constructor(options: JenkinsHttpOptions) {
    const base = new URL(options.url);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('Jenkins URL must be http:// or https://');
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    base.search = '';
    base.hash = '';
    base.username = '';
    base.password = '';
    this.baseUrl = base;
    this.authorization =
      options.user !== null && options.token !== null ? `Basic ${Buffer.from(`${options.user}:${options.token}`, 'utf8').toString('base64')}` : null;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Absolute URL of a path under the base URL. */
  urlOf(path: string, query?: URLSearchParams): URL {
    const url = new URL(path, this.baseUrl);
    if (query) url.search = query.toString();
    return url;
  }

  /** Sends the request; resolves with any HTTP answer (the caller judges the status). */
  async send(request: JenkinsRequest): Promise<Response> {
    if (request.method === 'GET') return this.fetchOnce(request, null);
    const crumb = await this.currentCrumb(request, false);
    const response = await this.fetchOnce(request, crumb);
    if (response.status !== 403) return response;
    await discard(response);
    return this.fetchOnce(request, await this.currentCrumb(request, true));
  }

  /** Reads a body as text within the request's timeout (the signal also covers the body). */
  async text(response: Response, what: string): Promise<string> {
    try {
      return await response.text();
    } catch (thrown) {
      throw transportError(coerceError(thrown), what, this.baseUrl);
    }
  }

  async bytes(response: Response, what: string): Promise<Buffer> {
    try {
      return Buffer.from(await response.arrayBuffer());
    } catch (thrown) {
      throw transportError(coerceError(thrown), what, this.baseUrl);
    }
  }

  async json(response: Response, what: string): Promise<unknown> {
    const text = await this.text(response, what);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new JenkinsError('unexpected_response', `Jenkins ${what}: the answer is not JSON`, { status: response.status });
    }
  }

  /** The JenkinsError for an answer whose status the caller did not expect. */
  async statusError(response: Response, what: string): Promise<JenkinsError> {
    const detail = summarize(await this.text(response, what).catch(() => ''));
    const reason = reasonForStatus(response.status);
    const suffix = detail ? `: ${detail}` : '';
    return new JenkinsError(reason, `Jenkins ${what}: HTTP ${response.status}${suffix}`, { status: response.status });
  }

  private currentCrumb(request: JenkinsRequest, refresh: boolean): Promise<Crumb | null> {
    if (refresh || this.crumb === undefined) {
      const pending = this.fetchCrumb(request.signal);
      this.crumb = pending;
      // A failed fetch must not poison the cache for the next POST.
      pending.catch(() => {
        if (this.crumb === pending) this.crumb = undefined;
      });
    }
    return this.crumb as Promise<Crumb | null>;
  }

  private async fetchCrumb(signal: AbortSignal | undefined): Promise<Crumb | null> {
    const what = 'crumb request';
    const response = await this.fetchOnce({ method: 'GET', path: 'crumbIssuer/api/json', what, ...signalArg(signal) }, null);
    if (response.status === 404) {
      await discard(response);
      return null;
    }
    if (response.status !== 200) throw await this.statusError(response, what);
    const body = await this.json(response, what);
    const crumbBody = isObject(body) ? body : undefined;
    const field = crumbBody?.crumbRequestField;
    const value = crumbBody?.crumb;
    if (typeof field !== 'string' || typeof value !== 'string' || !/^[A-Za-z0-9._-]+$/.test(field))
      throw new JenkinsError('unexpected_response', `Jenkins ${what}: no crumb in the answer`, { status: 200 });
    const cookies = response.headers
      .getSetCookie()
      .map((c) => c.split(';', 1)[0]?.trim() ?? '')
      .filter((c) => c.includes('='));
    return { field, value, cookie: cookies.length > 0 ? cookies.join('; ') : null };
  }

  private async fetchOnce(request: JenkinsRequest, crumb: Crumb | null): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json, text/plain;q=0.9, */*;q=0.5' };
    if (this.authorization) headers.authorization = this.authorization;
    if (crumb) {
      headers[crumb.field] = crumb.value;
      if (crumb.cookie) headers.cookie = crumb.cookie;
    }
    if (request.form) headers['content-type'] = 'application/x-www-form-urlencoded;charset=UTF-8';
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
    try {
      return await fetch(this.urlOf(request.path, request.query), {
        method: request.method,
        headers,
        body: request.form ? request.form.toString() : null,
        redirect: 'manual',
        signal,
      });
    } catch (thrown) {
      // The caller's own abort is not a Jenkins failure: let it through as the AbortError it is.
      if (request.signal?.aborted) throw request.signal.reason ?? coerceError(thrown);
      throw transportError(coerceError(thrown), request.what, this.baseUrl);
    }
  }
}

function transportError(error: Error, what: string, base: URL): JenkinsError {
  if (error.name === 'TimeoutError' || error.name === 'AbortError')
    return new JenkinsError('timeout', `Jenkins ${what}: no answer from ${base.origin} in time`, { cause: error });
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code = cause && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  const detail = code ?? cause?.message ?? error.message;
  return new JenkinsError('unreachable', `Jenkins ${what}: cannot reach ${base.origin} (${detail})`, { cause: error });
}

function reasonForStatus(status: number): JenkinsErrorReason {
  if (status === 400) return 'bad_request';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409 || status === 422) return 'conflict';
  if (status >= 500) return 'server_error';
  return 'unexpected_response';
}

/** Jenkins error pages are HTML; keep a short plain-text line for the message. */
function summarize(body: string): string {
  const text = body
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** Drops a body we do not read, so the connection can be reused. */
export async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

/** `{ signal }` when there is one, else nothing (for options that must not hold `undefined`). */
export function signalArg(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal ? { signal } : {};
}
