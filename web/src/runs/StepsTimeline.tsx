/**
 * The run's steps in order: status, duration (ticking while running), attempts, exit code; parallel
 * groups bracketed; a retry's reused steps marked as such; and, on a finished run, "retry from this
 * step" beside each step that ran.
 */
import type { RunStep } from '../api/types';
import { StatusIcon } from '../components/StatusIcon';
import { elapsedMs, formatDuration } from '../lib/format';
import { useNow } from '../lib/use-now';

interface StepsTimelineProps {
  steps: RunStep[];
  onSelect: (stepId: number) => void;
  /** Offered per step when given (a finished run the user may run). */
  onRetryFrom?: ((step: RunStep) => void) | undefined;
  /** The run a reused step's result comes from (a retry's original). */
  retryOf?: { run_id: number; number: number } | null | undefined;
}

export function StepsTimeline({ steps, onSelect, onRetryFrom, retryOf }: StepsTimelineProps) {
  const now = useNow(
    1000,
    steps.some((s) => s.status === 'running'),
  );
  const segments: Array<{ group: string | null; steps: RunStep[] }> = [];
  for (const step of steps) {
    const last = segments[segments.length - 1];
    if (step.parallel_group && last && last.group === step.parallel_group) last.steps.push(step);
    else segments.push({ group: step.parallel_group ?? null, steps: [step] });
  }
  if (steps.length === 0)
    return (
      <p className="faint" style={{ padding: 16 }}>
        This run has no steps.
      </p>
    );
  return (
    <ol className="timeline" aria-label="Steps" data-testid="steps-timeline">
      {segments.map((segment, i) => (
        <li key={i} className={segment.group && segment.steps.length > 1 ? 'timeline-group' : undefined}>
          {segment.group && segment.steps.length > 1 && <div className="timeline-group-label">parallel · {segment.group}</div>}
          {segment.steps.map((step) => {
            const duration = step.duration_ms ?? elapsedMs(step.started_at, step.finished_at, now);
            const attempts = step.attempts ?? 1;
            const reused = step.reused_from !== null && step.reused_from !== undefined;
            const row = (
              <button
                type="button"
                key={step.id}
                className={`timeline-step status-${step.status}${reused ? ' is-reused' : ''}`}
                onClick={() => onSelect(step.id)}
                data-testid="step-row"
                data-step-id={step.id}
                data-step-name={step.name}
                data-status={step.status}
                data-reused={reused ? 'true' : undefined}
              >
                <StatusIcon status={step.status} />
                <span className="timeline-name truncate">{step.name}</span>
                <span className="timeline-meta tabular">
                  {reused && (
                    <span
                      className="chip"
                      title={`Not run again: the result (and log) of ${retryOf ? `run #${retryOf.number}` : 'the original run'}'s step`}
                      data-testid="step-reused"
                    >
                      reused
                    </span>
                  )}
                  {attempts > 1 && (
                    <span className="chip" title={`${attempts} attempts`} data-testid="step-attempts">
                      ↻ {attempts}
                    </span>
                  )}
                  {step.exit_code !== null && step.exit_code !== undefined && step.exit_code !== 0 && (
                    <span className="chip" title="Exit code">
                      exit {step.exit_code}
                    </span>
                  )}
                  <span className="timeline-duration" data-testid="step-duration">
                    {duration === null ? (step.status === 'skipped' ? 'skipped' : '') : formatDuration(duration)}
                  </span>
                </span>
              </button>
            );
            if (!onRetryFrom || step.status === 'pending' || step.status === 'running') return row;
            return (
              <div className="timeline-row" key={step.id}>
                {row}
                <button
                  type="button"
                  className="btn btn-sm btn-icon timeline-retry"
                  onClick={() => onRetryFrom(step)}
                  title={`Retry from this step: a new run that reuses the steps before "${step.name}"`}
                  aria-label={`Retry from step ${step.name}`}
                  data-testid="retry-from-step"
                  data-step-name={step.name}
                >
                  ↻
                </button>
              </div>
            );
          })}
        </li>
      ))}
    </ol>
  );
}
