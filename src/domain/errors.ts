/**
 * The one error catalog. Every failure the platform reports to a client is an AppError with one of
 * these codes; the HTTP layer turns it into the unified error body in exactly one place.
 */
export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  AUTHENTICATION_ERROR: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  RESOURCE_CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  UNPROCESSABLE_ENTITY: 422,
  RATE_LIMIT_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  UPSTREAM_ERROR: 502,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Field path → messages, as in the API document (`{"name": ["此字段不能为空"]}`). */
export type ErrorDetails = Record<string, string[]>;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | Record<string, unknown>;
  /** Extra response headers (Retry-After, Allow). */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, details: ErrorDetails | Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
    this.headers = headers;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const validationError = (details: ErrorDetails, message = 'Request data validation failed') => new AppError('VALIDATION_ERROR', message, details);

export const notFound = (what: string) => new AppError('RESOURCE_NOT_FOUND', `${what} not found`);

export const conflict = (message: string, details: ErrorDetails = {}) => new AppError('RESOURCE_CONFLICT', message, details);

export const permissionDenied = (message = 'You do not have permission to perform this action') => new AppError('PERMISSION_DENIED', message);

export const unauthenticated = (message = 'Authentication credentials were not provided or are invalid') => new AppError('AUTHENTICATION_ERROR', message);

/** Turns anything thrown into an Error, so catch blocks never deal with `unknown`. */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : JSON.stringify(thrown));
}
