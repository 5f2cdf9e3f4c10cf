/**
 * The one error the Jenkins client throws. `reason` is stable and machine-readable; `message`
 * is safe to show (never contains credentials). The gateway answers every JenkinsError with 502
 * UPSTREAM_ERROR except `invalid_request`, which is the caller's mistake (400).
 */
import { AppError, validationError } from '../../domain/errors.js';

export type JenkinsErrorReason =
  | 'invalid_request' // refused before anything was sent (bad job path or parameter name)
  | 'unreachable' // connection refused, DNS failure, reset
  | 'timeout' // no answer within the client's per-request timeout
  | 'unauthorized' // 401: wrong user or API token
  | 'forbidden' // 403: missing permission, or a crumb refused twice
  | 'not_found' // 404: no such job/build (or no permission to see it)
  | 'bad_request' // 400: e.g. "is not parameterized"
  | 'conflict' // 409/422: e.g. "is not buildable" (disabled job)
  | 'server_error' // 5xx
  | 'unexpected_response' // a status or body the protocol does not allow
  | 'not_enqueued' // Jenkins accepted the request but scheduled nothing (vetoed)
  | 'queue_item_expired'; // the queue item is gone (Jenkins forgets left items after ~5 minutes)

export class JenkinsError extends Error {
  readonly reason: JenkinsErrorReason;
  /** The HTTP status Jenkins answered with, when it answered. */
  readonly status: number | null;

  constructor(reason: JenkinsErrorReason, message: string, options: { status?: number | null; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'JenkinsError';
    this.reason = reason;
    this.status = options.status ?? null;
  }
}

/** Failures worth retrying on the next poll: Jenkins restarting, a proxy hiccup, a slow answer. */
export function isTransientJenkinsError(error: unknown): boolean {
  return error instanceof JenkinsError && ['unreachable', 'timeout', 'server_error'].includes(error.reason);
}

/** How the HTTP layer reports a Jenkins failure (CONTRACT.md: 502 UPSTREAM_ERROR with the reason). */
export function jenkinsErrorToAppError(error: JenkinsError): AppError {
  if (error.reason === 'invalid_request') return validationError({ jenkins: [error.message] }, error.message);
  return new AppError('UPSTREAM_ERROR', error.message, { reason: error.reason, status: error.status });
}
