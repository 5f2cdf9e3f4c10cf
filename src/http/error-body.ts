import type { ErrorCode } from '../domain/errors.js';

/** The unified error body of the API document: `{error:{code,message,details}, timestamp, path}`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: Record<string, unknown> };
  timestamp: string;
  path: string;
}

export function errorBody(code: ErrorCode, message: string, details: Record<string, unknown>, url: string): ErrorBody {
  // The path never carries the query string: it may hold a token (WebSocket auth) or other secrets.
  const path = url.split('?')[0] ?? url;
  return { error: { code, message, details }, timestamp: new Date().toISOString(), path };
}
