/**
 * Final run statuses for tests and benchmarks that poll the API, from the one list in src/domain/status.ts.
 */
import { RUN_STATUSES, isFinalRunStatus, type RunStatus } from '../../src/domain/status.js';

/** True when a status read from the API is final; anything that is not a run status (an error body) is not. */
export function isFinalStatus(status: unknown): boolean {
  return (RUN_STATUSES as readonly unknown[]).includes(status) && isFinalRunStatus(status as RunStatus);
}
