/** Run facts: trigger (who or which delivery), branch, commit, times, duration, variables. */
import { Link } from 'react-router-dom';
import type { Run } from '../api/types';
import { RelativeTime } from '../components/RelativeTime';
import { elapsedMs, formatDuration, shortCommit } from '../lib/format';
import { useNow } from '../lib/use-now';
import { triggerText } from './trigger-text';

export function RunSummary({ run }: { run: Run }) {
  const now = useNow(1000, run.status === 'running');
  const duration = run.duration_ms ?? elapsedMs(run.started_at, run.finished_at, now);
  const t = run.trigger;
  return (
    <dl className="run-facts" data-testid="run-summary">
      <div>
        <dt>Trigger</dt>
        <dd data-testid="run-trigger">
          {triggerText(t)}
          {t?.type === 'webhook' && t.delivery_id != null && (
            <>
              {' '}
              · <Link to={`/webhooks?highlight=${encodeURIComponent(String(t.delivery_id))}`}>delivery</Link>
            </>
          )}
        </dd>
      </div>
      <div>
        <dt>Branch</dt>
        <dd>{run.branch ? <span className="chip mono">{run.branch}</span> : <span className="faint">—</span>}</dd>
      </div>
      <div>
        <dt>Commit</dt>
        <dd className="mono" title={run.commit ?? undefined}>
          {run.commit ? shortCommit(run.commit) : <span className="faint">—</span>}
        </dd>
      </div>
      <div>
        <dt>Started</dt>
        <dd>
          <RelativeTime iso={run.started_at ?? run.created_at} />
        </dd>
      </div>
      <div>
        <dt>Duration</dt>
        <dd className="tabular" data-testid="run-duration">
          {formatDuration(duration)}
        </dd>
      </div>
    </dl>
  );
}
