/** Run status filter (select). */
import type { RunStatus } from '../api/types';

const STATUSES: RunStatus[] = ['waiting', 'queued', 'running', 'success', 'failed', 'cancelled', 'timeout', 'error'];

export function RunStatusFilter({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  return (
    <select className="select" aria-label="Run status" value={value} onChange={(e) => onChange(e.target.value)} data-testid="filter-run-status">
      <option value="">All statuses</option>
      {STATUSES.map((s) => (
        <option key={s} value={s}>
          {s}
        </option>
      ))}
    </select>
  );
}
