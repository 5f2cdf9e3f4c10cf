/**
 * The one way the UI calls the API: same origin, JSON in and out, the access token attached,
 * refreshed and retried once on a 401, errors thrown as ApiError.
 */
import { ApiError } from './api-error';
import { refreshAccessToken, validAccessToken } from './session';

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Query;
  signal?: AbortSignal;
  /** Send without a token (login). */
  anonymous?: boolean;
}

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const qs = params.toString();
  return qs === '' ? path : `${path}${path.includes('?') ? '&' : '?'}${qs}`;
}

async function send(path: string, options: RequestOptions, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(withQuery(path, options.query), {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw ApiError.network(error);
  }
}

/** Sends a request and returns the raw response (after auth handling); throws ApiError on failure. */
export async function request(path: string, options: RequestOptions = {}): Promise<Response> {
  const token = options.anonymous ? null : await validAccessToken();
  let res = await send(path, options, token);
  if (res.status === 401 && !options.anonymous && token) {
    const fresh = await refreshAccessToken().catch(() => null);
    if (fresh) res = await send(path, options, fresh);
  }
  if (!res.ok) throw await ApiError.fromResponse(res);
  return res;
}

/** JSON request; resolves to undefined for 204. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const res = await request(path, options);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}
