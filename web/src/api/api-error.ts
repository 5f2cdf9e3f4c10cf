/** Errors from the API as one class: HTTP status, error code, message and per-field details. */
import { normalizeDetails } from '../forms/schema-form-model';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, string[]>;
  readonly retryAfter: number | null;

  constructor(status: number, code: string, message: string, details: Record<string, string[]> = {}, retryAfter: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }

  static async fromResponse(res: Response): Promise<ApiError> {
    const retryHeader = res.headers.get('Retry-After');
    const retryAfter = retryHeader && /^\d+$/.test(retryHeader) ? Number(retryHeader) : null;
    let body: unknown = null;
    try {
      body = await res.json();
    } catch {
      // not JSON (proxy error page, empty body)
    }
    const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
    const code = typeof error?.code === 'string' ? error.code : `HTTP_${res.status}`;
    const message = typeof error?.message === 'string' && error.message !== '' ? error.message : res.statusText || `Request failed (${res.status})`;
    return new ApiError(res.status, code, message, normalizeDetails(error?.details), retryAfter);
  }

  static network(cause: unknown): ApiError {
    const message = cause instanceof Error ? cause.message : 'Network error';
    return new ApiError(0, 'NETWORK_ERROR', `Cannot reach the server (${message})`);
  }
}

/** A readable one-line message for any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'RATE_LIMIT_EXCEEDED' && error.retryAfter) return `${error.message} (try again in ${error.retryAfter}s)`;
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
