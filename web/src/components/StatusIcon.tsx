/** A small icon for a run or step status (decorative; the label carries the meaning). */
import type { RunStatus, StepStatus } from '../api/types';

export type AnyStatus = RunStatus | StepStatus;

export function statusTone(status: AnyStatus | null | undefined): 'success' | 'danger' | 'warning' | 'info' | 'neutral' {
  switch (status) {
    case 'success':
      return 'success';
    case 'failed':
    case 'error':
    case 'timeout':
      return 'danger';
    case 'cancelled':
    case 'waiting':
      return 'warning';
    case 'running':
    case 'queued':
      return 'info';
    default:
      return 'neutral';
  }
}

export function statusLabel(status: AnyStatus | null | undefined): string {
  if (!status) return 'never run';
  switch (status) {
    case 'timeout':
      return 'timed out';
    case 'waiting':
      return 'waiting for approval';
    default:
      return status;
  }
}

export function StatusIcon({ status }: { status: AnyStatus }) {
  const tone = statusTone(status);
  const color = `var(--${tone})`;
  let path: React.ReactNode;
  switch (status) {
    case 'success':
      path = <path d="M5.5 9.5l2.3 2.3 4.7-5" fill="none" stroke="#fff" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />;
      break;
    case 'failed':
    case 'error':
      path = <path d="M6.5 6.5l5 5m0-5l-5 5" stroke="#fff" strokeWidth="1.8" strokeLinecap="round" />;
      break;
    case 'timeout':
      path = <path d="M9 5.5V9l2.2 1.6" fill="none" stroke="#fff" strokeWidth="1.7" strokeLinecap="round" />;
      break;
    case 'cancelled':
      path = <path d="M6 9h6" stroke="#fff" strokeWidth="1.8" strokeLinecap="round" />;
      break;
    case 'skipped':
      path = <path d="M6.5 6l3 3-3 3M10 6l3 3-3 3" fill="none" stroke="#fff" strokeWidth="1.4" strokeLinecap="round" />;
      break;
    case 'waiting':
      path = <path d="M7 5.5v7m4-7v7" stroke="#fff" strokeWidth="1.8" strokeLinecap="round" />;
      break;
    default:
      path = null;
  }
  if (status === 'running') {
    return (
      <span className="status-icon" aria-hidden="true">
        <svg viewBox="0 0 18 18">
          <circle cx="9" cy="9" r="7" fill="none" stroke="var(--surface-3)" strokeWidth="2.2" />
          <path d="M9 2a7 7 0 0 1 7 7" fill="none" stroke={color} strokeWidth="2.2" strokeLinecap="round">
            <animateTransform attributeName="transform" type="rotate" from="0 9 9" to="360 9 9" dur="1s" repeatCount="indefinite" />
          </path>
        </svg>
      </span>
    );
  }
  if (status === 'pending' || status === 'queued') {
    return (
      <span className="status-icon" aria-hidden="true">
        <svg viewBox="0 0 18 18">
          <circle cx="9" cy="9" r="6.5" fill="none" stroke={color} strokeWidth="1.8" strokeDasharray="3 2.2" />
        </svg>
      </span>
    );
  }
  return (
    <span className="status-icon" aria-hidden="true">
      <svg viewBox="0 0 18 18">
        <circle cx="9" cy="9" r="8" fill={color} />
        {path}
      </svg>
    </span>
  );
}
