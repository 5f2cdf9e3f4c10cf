/**
 * One run, live: status, progress, trigger, steps timeline and the log; its artifacts; cancel,
 * re-run, and retry (failed steps, or from a chosen step) reusing the steps before the retry point.
 */
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { cancelRun, downloadRunLog, retryRun, runPipeline } from '../api/endpoints';
import { ApiError, errorMessage } from '../api/api-error';
import { isFinalRun, type Run, type RunStep } from '../api/types';
import { canRun, useAuth } from '../auth/AuthProvider';
import { ErrorBanner, Loading } from '../components/Feedback';
import { StatusBadge } from '../components/StatusBadge';
import { statusTone } from '../components/StatusIcon';
import { useToast } from '../components/Toasts';
import { documentToText } from '../log/log-document';
import { LogViewer } from '../log/LogViewer';
import { RunSummary } from '../runs/RunSummary';
import { RunGraph } from '../runs/RunGraph';
import { FileErrorList } from '../pipeline-file/FileErrorList';
import { StepsTimeline } from '../runs/StepsTimeline';
import { CommitStatuses } from '../runs/CommitStatuses';
import { useRunLive, type LiveMode } from '../runs/use-run-live';
import { PinButton } from '../runs/PinButton';
import { RunArtifacts } from '../runs/RunArtifacts';
import { ApprovalBanner } from '../runs/ApprovalBanner';
import { saveBlob } from '../lib/save-blob';
import { AnsibleResults } from '../ansible/AnsibleResults';
import '../styles/run.css';

const NO_LINES: string[] = [];
const MODE_TEXT: Record<LiveMode, string> = { connecting: 'connecting…', live: 'live', polling: 'live (polling)', finished: '' };

/** Variables to send again on re-run: masked secrets cannot be re-sent, the pipeline supplies them. */
function rerunVariables(run: Run): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(run.variables ?? {})) {
    if (typeof value === 'string') out[name] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export default function RunPage() {
  const { runId = '' } = useParams();
  // Keyed by the run: going from one run to another (a retry, a re-run) starts a fresh view, so no
  // render shows the previous run's status, steps or refused-retry banner under the new address.
  return <RunView key={runId} runId={runId} />;
}

function RunView({ runId }: { runId: string }) {
  const { user } = useAuth();
  const toast = useToast();
  const navigate = useNavigate();
  const live = useRunLive(runId);
  const [jump, setJump] = useState<{ stepId: number; nonce: number } | null>(null);
  const [busy, setBusy] = useState<'cancel' | 'rerun' | 'retry' | null>(null);
  /** A retry the API refused: its reason, and whether it offers a full run instead (no usable snapshot). */
  const [refused, setRefused] = useState<{ message: string; fullRerun: boolean } | null>(null);
  const { run } = live;

  if (!run) {
    return <div className="page">{live.error ? <ErrorBanner error={live.error} /> : <Loading label="Loading run…" />}</div>;
  }

  const final = isFinalRun(run.status);
  const cancel = async () => {
    setBusy('cancel');
    try {
      await cancelRun(run.id);
      toast('Cancelling run…');
    } catch (err) {
      toast(errorMessage(err), 'error');
    } finally {
      setBusy(null);
    }
  };
  const rerun = async () => {
    if (!run.pipeline) return;
    setBusy('rerun');
    try {
      const next = await runPipeline(run.pipeline.id, { branch: run.branch ?? undefined, variables: rerunVariables(run) });
      navigate(`/runs/${next.id}`);
    } catch (err) {
      toast(errorMessage(err), 'error');
    } finally {
      setBusy(null);
    }
  };
  const retry = async (from: 'failed' | RunStep) => {
    setBusy('retry');
    setRefused(null);
    try {
      const next = await retryRun(run.id, from === 'failed' ? 'failed' : from.id);
      toast(`Run #${next.number} retries #${run.number}`);
      navigate(`/runs/${next.id}`);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 409 || err.status === 400))
        setRefused({ message: err.message, fullRerun: (err.details.full_rerun ?? []).length > 0 });
      else toast(errorMessage(err), 'error');
    } finally {
      setBusy(null);
    }
  };
  const download = async () => {
    const filename = `${run.pipeline?.name ?? 'run'}-${run.number}.log`.replace(/[^\w.-]+/g, '_');
    try {
      saveBlob(await downloadRunLog(run.id), filename);
    } catch {
      saveBlob(new Blob([documentToText(live.sections)], { type: 'text/plain' }), filename);
    }
  };

  const tone = statusTone(run.status);
  const retryable = final && canRun(user) && run.pipeline !== null && (run.steps ?? []).length > 0;
  const failedSteps = (run.steps ?? []).some((s) => s.status !== 'success' && s.status !== 'skipped');
  // Artifacts are stored as steps end: read them again when one does.
  const artifactsVersion = `${run.status}:${(run.steps ?? []).filter((s) => s.finished_at !== null).length}`;
  const progress = final ? 100 : Math.max(0, Math.min(100, run.progress ?? 0));

  return (
    <div className="page page-wide run-page" data-testid="run-page" data-run-id={run.id}>
      <div className="breadcrumbs">
        <Link to="/runs">Runs</Link>
        <span aria-hidden="true">/</span>
        {run.pipeline ? <Link to={`/pipelines/${run.pipeline.id}`}>{run.pipeline.name}</Link> : <span>deleted pipeline</span>}
      </div>
      <div className="run-head">
        <div className="run-title">
          <h1>
            {run.pipeline?.name ?? 'Run'} <span className="faint">#{run.number}</span>
          </h1>
          <StatusBadge status={run.status} testId="run-status" />
          <span className="run-mode faint" data-testid="run-live-mode">
            {MODE_TEXT[live.mode]}
          </span>
        </div>
        <div className="row run-actions">
          {canRun(user) && (
            <button
              type="button"
              className="btn btn-danger"
              onClick={() => void cancel()}
              disabled={final || busy !== null}
              style={{ visibility: final ? 'hidden' : 'visible' }}
              aria-hidden={final}
              data-testid="cancel-run"
            >
              ■ Cancel
            </button>
          )}
          {canRun(user) && <PinButton runId={run.id} pinnedAt={(run as { pinned_at?: string | null }).pinned_at} />}
          {retryable && failedSteps && (
            <button
              type="button"
              className="btn"
              onClick={() => void retry('failed')}
              disabled={busy !== null}
              title="A new run that reuses the steps that succeeded and runs the failed ones (and what follows) again"
              data-testid="retry-failed"
            >
              ↻ Retry failed steps
            </button>
          )}
          {canRun(user) && run.pipeline && (
            <button type="button" className="btn" onClick={() => void rerun()} disabled={busy !== null} data-testid="rerun">
              ↻ Re-run
            </button>
          )}
        </div>
      </div>
      <div
        className={`progress tone-${tone === 'info' ? 'accent' : tone}`}
        role="progressbar"
        aria-label="Run progress"
        aria-valuenow={progress}
        aria-valuemin={0}
        aria-valuemax={100}
        data-testid="run-progress"
      >
        <span style={{ width: `${progress}%` }} />
      </div>
      {run.retry_of && (
        <p className="run-retry-of muted" data-testid="run-retry-of">
          Retry of{' '}
          <Link to={`/runs/${run.retry_of.run_id}`} data-testid="run-retry-of-link">
            #{run.retry_of.number}
          </Link>{' '}
          {run.retry_of.from === 'failed' ? 'from its failed steps' : <>from step &ldquo;{run.retry_of.from}&rdquo;</>}; reused steps were not run again (their
          logs are in #{run.retry_of.number}).
        </p>
      )}
      {refused && (
        <div className="banner banner-warning" role="alert" style={{ marginBottom: 12 }} data-testid="retry-refused">
          <div>
            <strong>Cannot retry:</strong> <span data-testid="retry-refused-reason">{refused.message}</span>
            {refused.fullRerun && run.pipeline && (
              <div className="row" style={{ marginTop: 8 }}>
                <button type="button" className="btn btn-sm btn-primary" onClick={() => void rerun()} disabled={busy !== null} data-testid="retry-full-rerun">
                  ▶ Run the whole pipeline again
                </button>
                <button type="button" className="btn btn-sm" onClick={() => setRefused(null)}>
                  Dismiss
                </button>
              </div>
            )}
          </div>
          {!refused.fullRerun && (
            <button type="button" className="btn btn-sm" onClick={() => setRefused(null)} aria-label="Dismiss">
              ✕
            </button>
          )}
        </div>
      )}
      {run.status === 'waiting' && <ApprovalBanner run={run} />}
      <RunSummary run={run} />
      {run.secrets_withheld && (
        <div className="banner banner-info" role="status" style={{ marginBottom: 12 }} data-testid="run-secrets-withheld">
          <div>
            <strong>Secrets withheld: {run.secrets_withheld}.</strong> This run got no secret variables and no credentials; the pipeline&apos;s &ldquo;Give
            secrets to pull requests from forks&rdquo; setting changes that.
          </div>
        </div>
      )}
      {run.error_reason && !run.config_errors?.length && (
        <div
          className={`banner ${run.status === 'cancelled' ? 'banner-info' : 'banner-error'}`}
          role={run.status === 'cancelled' ? 'status' : 'alert'}
          style={{ marginBottom: 12 }}
          data-testid="run-error-reason"
        >
          {/^superseded by run #\d+$/.test(run.error_reason) ? <strong>Cancelled: {run.error_reason}.</strong> : run.error_reason}
        </div>
      )}
      {run.commit_statuses && <CommitStatuses statuses={run.commit_statuses} />}
      {run.config_errors && run.config_errors.length > 0 && (
        <div className="banner banner-error" role="alert" style={{ marginBottom: 12 }} data-testid="run-config-errors">
          <div>
            <strong>The pipeline file is not valid; no step was started.</strong>
            <FileErrorList errors={run.config_errors} />
          </div>
        </div>
      )}
      <RunGraph
        steps={run.steps ?? []}
        {...(run.left_out_steps ? { leftOut: run.left_out_steps } : {})}
        onSelect={(stepId) => {
          setJump({ stepId, nonce: Date.now() });
          // on a narrow screen the log is below: bring it into view
          document.querySelector('[data-testid=log-viewer]')?.scrollIntoView({ block: 'start', behavior: 'smooth' });
        }}
      />
      <RunArtifacts runId={run.id} version={artifactsVersion} />
      <div className="run-layout">
        <aside className="card run-steps">
          <div className="card-head">
            <h2>Steps</h2>
            <span className="faint tabular">{progress}%</span>
          </div>
          <StepsTimeline
            steps={run.steps ?? []}
            onSelect={(stepId) => setJump({ stepId, nonce: Date.now() })}
            onRetryFrom={retryable ? (step) => busy === null && void retry(step) : undefined}
            retryOf={run.retry_of}
          />
        </aside>
        <LogViewer
          sections={live.sections}
          version={live.version}
          steps={run.steps ?? []}
          live={!final}
          jumpTo={jump}
          onDownload={() => void download()}
          emptyText={run.status === 'queued' ? 'Waiting for a worker to pick up this run…' : final ? 'This run produced no output.' : 'Waiting for output…'}
        />
      </div>
      {(run.steps ?? [])
        .filter((s) => s.type === 'ansible_playbook' && s.status !== 'pending')
        .map((s) => (
          <AnsibleResults
            key={s.id}
            runId={run.id}
            stepId={s.id}
            stepName={s.name}
            live={s.status === 'running'}
            canRerun={canRun(user)}
            subscribe={live.subscribeAnsible}
            polling={live.mode === 'polling'}
            logLines={live.sections.find((section) => section.stepId === s.id)?.lines ?? NO_LINES}
            logVersion={live.version}
          />
        ))}
    </div>
  );
}
