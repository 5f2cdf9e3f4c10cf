/**
 * Which database errors mean "unreachable for now" (connection refused/reset/terminated, server
 * shutting down, too many connections) rather than a bad query. The HTTP layer answers those with
 * 503; the worker retries its writes through them instead of losing a run's outcome.
 */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE', '57P01', '57P03', '08006', '08001', '08003', '53300']);
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|is not queryable|Client has encountered a connection error/;

export function isUnavailable(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (e?.code !== undefined && UNAVAILABLE_CODES.has(e.code)) || UNAVAILABLE_MESSAGES.test(e?.message ?? '');
}

/**
 * Runs `write`, retrying with backoff (100 ms doubling to 5 s) while the database is unavailable,
 * for at most `maxMs`. Any other error, or the deadline, is thrown as is.
 */
export async function retryWhileUnavailable<T>(write: () => Promise<T>, options: { maxMs?: number; onRetry?: (error: unknown) => void } = {}): Promise<T> {
  const deadline = Date.now() + (options.maxMs ?? 5 * 60 * 1000);
  let wait = 100;
  for (;;) {
    try {
      return await write();
    } catch (error) {
      if (!isUnavailable(error) || Date.now() + wait > deadline) throw error;
      options.onRetry?.(error);
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 5000);
    }
  }
}
