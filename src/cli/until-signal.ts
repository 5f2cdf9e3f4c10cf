import type { Logger } from 'pino';

/**
 * Resolves once the process was asked to stop (SIGTERM or SIGINT) and `shutdown` has run — once,
 * however many signals arrive. A failing shutdown is logged, and the command still returns.
 */
export function untilSignal(logger: Logger, what: string, shutdown: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, `${what} shutting down`);
      void shutdown()
        .catch((error: unknown) => logger.error({ err: error }, 'error during shutdown'))
        .finally(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
