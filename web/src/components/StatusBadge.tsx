/** A pill showing a run or step status, with a stable test id for browser tests. */
import { statusLabel, statusTone, type AnyStatus } from './StatusIcon';

export function StatusBadge({ status, testId = 'status-badge' }: { status: AnyStatus | null | undefined; testId?: string }) {
  const live = status === 'running' || status === 'queued';
  return (
    <span className={`badge tone-${statusTone(status)}${live ? ' live' : ''}`} data-testid={testId} data-status={status ?? 'none'}>
      <span className="dot" aria-hidden="true" />
      {statusLabel(status)}
    </span>
  );
}
