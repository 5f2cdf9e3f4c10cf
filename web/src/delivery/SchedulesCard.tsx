/** A pipeline's schedules on its page: each with its next five fire times (as the API answers them) and its recent fires. */
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { deleteSchedule, listSchedules, type Schedule } from '../api/delivery';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { ErrorBanner, Loading } from '../components/Feedback';
import { useToast } from '../components/Toasts';
import { useAsync } from '../lib/use-async';
import { ScheduleDialog } from './ScheduleDialog';
import { fireTimeText } from './schedule-form';

interface SchedulesCardProps {
  pipeline: { id: number; branch: string };
  /** Whether the user may change the pipeline (and so its schedules). */
  editable: boolean;
}

export function SchedulesCard({ pipeline, editable }: SchedulesCardProps) {
  const toast = useToast();
  const list = useAsync((signal) => listSchedules(pipeline.id, { signal }), [pipeline.id]);
  const [dialog, setDialog] = useState<{ editing: Schedule | null } | null>(null);
  const [deleting, setDeleting] = useState<Schedule | null>(null);

  return (
    <div className="card" style={{ marginBottom: 16 }} data-testid="schedules-card">
      <div className="card-head">
        <h2>Schedules</h2>
        {editable && (
          <button type="button" className="btn btn-sm" onClick={() => setDialog({ editing: null })} data-testid="new-schedule">
            + Add schedule
          </button>
        )}
      </div>
      <div className="card-body">
        <ErrorBanner error={list.error} onRetry={list.reload} />
        {!list.data && list.loading && <Loading />}
        {list.data && list.data.length === 0 && <p className="muted">No schedules: this pipeline runs when pushed to or started by hand.</p>}
        {list.data?.map((s) => (
          <div key={s.id} className="schedule" data-testid="schedule-row" data-id={s.id}>
            <div className="row" style={{ justifyContent: 'space-between', alignItems: 'flex-start' }}>
              <div>
                <code className="mono" data-testid="schedule-cron-text">
                  {s.cron}
                </code>{' '}
                <span className="muted">in {s.timezone}</span>
                {s.branch && (
                  <span className="chip mono" style={{ marginLeft: 6 }}>
                    {s.branch}
                  </span>
                )}{' '}
                <span className={`badge ${s.enabled ? 'tone-success' : ''}`} data-testid="schedule-state">
                  {s.enabled ? 'enabled' : 'disabled'}
                </span>
                {s.catch_up && (
                  <span className="badge" style={{ marginLeft: 4 }}>
                    catch-up
                  </span>
                )}
                {s.description && <div className="cell-sub">{s.description}</div>}
                {Object.keys(s.variables).length > 0 && (
                  <div className="cell-sub mono">
                    {Object.entries(s.variables)
                      .map(([k, v]) => `${k}=${v}`)
                      .join(' ')}
                  </div>
                )}
              </div>
              {editable && (
                <div className="row-actions">
                  <button type="button" className="btn btn-sm" onClick={() => setDialog({ editing: s })} data-testid="schedule-edit">
                    Edit
                  </button>{' '}
                  <button type="button" className="btn btn-sm btn-danger" onClick={() => setDeleting(s)} data-testid="schedule-delete">
                    Delete
                  </button>
                </div>
              )}
            </div>
            {s.next_fire_times.length > 0 ? (
              <div style={{ marginTop: 6 }}>
                <span className="field-label">Next</span>
                <ol className="schedule-times" data-testid="schedule-next-times">
                  {s.next_fire_times.map((t) => (
                    <li key={t}>
                      <time dateTime={t}>{fireTimeText(t, s.timezone)}</time>
                    </li>
                  ))}
                </ol>
              </div>
            ) : (
              <p className="faint" data-testid="schedule-next-none">
                {s.enabled ? 'It never fires again.' : 'Disabled: it fires never.'}
              </p>
            )}
            {s.recent_fires.length > 0 && (
              <details>
                <summary className="muted">Recent fires ({s.recent_fires.length})</summary>
                <ul className="schedule-times" data-testid="schedule-recent-fires">
                  {s.recent_fires.map((f) => (
                    <li key={f.fire_at}>
                      {fireTimeText(f.fire_at, s.timezone)}: {f.outcome}
                      {f.run_id !== null && (
                        <>
                          {' '}
                          (<Link to={`/runs/${f.run_id}`}>run</Link>)
                        </>
                      )}
                      {f.reason && <span className="muted"> — {f.reason}</span>}
                    </li>
                  ))}
                </ul>
              </details>
            )}
          </div>
        ))}
      </div>
      <ScheduleDialog
        open={dialog !== null}
        pipelineId={pipeline.id}
        pipelineBranch={pipeline.branch}
        editing={dialog?.editing ?? null}
        onClose={() => setDialog(null)}
        onSaved={() => {
          toast(dialog?.editing ? 'Schedule saved' : 'Schedule added');
          list.reload();
        }}
      />
      <ConfirmDialog
        open={deleting !== null}
        title="Delete schedule"
        danger
        confirmLabel="Delete"
        message={
          <p>
            Delete the schedule <code>{deleting?.cron}</code>? Runs it started stay in the history.
          </p>
        }
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await deleteSchedule(pipeline.id, deleting.id);
          toast('Schedule deleted');
          list.reload();
        }}
      />
    </div>
  );
}
