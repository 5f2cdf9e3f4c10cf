/**
 * An Ansible step's results on the run page: a task × host grid coloured by result that fills in
 * live from the run's WebSocket (`ansible_events`, applied on the REST answer by ansible-live.ts;
 * read again every second only when the socket could not be used), a host filter that narrows the
 * grid, the recap and the step's raw log (host-log.ts), the recap per host (unreachable apart
 * from failed), and the re-run on failed hosts. Events are applied once per animation frame.
 */
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { getAnsibleResults, rerunFailedHosts, type AnsibleStepResults } from '../api/endpoints';
import type { AnsibleEvent } from '../api/types';
import { errorMessage } from '../api/api-error';
import { useToast } from '../components/Toasts';
import type { AnsibleListener } from '../runs/use-run-live';
import { applyAnsibleEvents } from './ansible-live';
import { hostLogLines } from './host-log';
import { TaskGrid } from './TaskGrid';
import { RecapTable } from './RecapTable';
import '../styles/ansible.css';

const POLL_MS = 1000;
const NO_HOSTS: string[] = [];

export function AnsibleResults({
  runId,
  stepId,
  stepName,
  live,
  canRerun,
  subscribe,
  polling,
  logLines,
  logVersion,
}: {
  runId: number;
  stepId: number;
  stepName: string;
  live: boolean;
  canRerun: boolean;
  /** The run's WebSocket events (use-run-live.ts). */
  subscribe: (listener: AnsibleListener) => () => void;
  /** The socket could not be used: read the results every second while the step runs. */
  polling: boolean;
  /** The step's raw log lines (for the per-host filter) and the version that says they grew. */
  logLines: readonly string[];
  logVersion: number;
}) {
  const [results, setResults] = useState<AnsibleStepResults | null>(null);
  const [host, setHost] = useState('');
  const [busy, setBusy] = useState(false);
  const toast = useToast();
  const navigate = useNavigate();
  const pending = useRef<AnsibleEvent[]>([]);
  const loaded = useRef(false);

  // Live events: queued, applied once per frame (and kept until the REST answer is in).
  useEffect(() => {
    let frame: number | null = null;
    const flush = () => {
      frame = null;
      if (!loaded.current || pending.current.length === 0) return;
      const events = pending.current;
      pending.current = [];
      setResults((r) => (r ? applyAnsibleEvents(r, events) : r));
    };
    const unsubscribe = subscribe((id, events) => {
      if (id !== stepId) return;
      pending.current.push(...events);
      if (frame === null) frame = requestAnimationFrame(flush);
    });
    return () => {
      unsubscribe();
      if (frame !== null) cancelAnimationFrame(frame);
    };
  }, [subscribe, stepId]);

  // The REST answer: once, again when the step ends, and every second only when polling.
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const load = async () => {
      try {
        const answer = await getAnsibleResults(runId, stepId, { signal: controller.signal });
        const queued = pending.current;
        pending.current = [];
        loaded.current = true;
        setResults(applyAnsibleEvents(answer, queued));
      } catch {
        // shown as "no results yet"; the next read (or the socket) brings them
      }
      if (live && polling && !controller.signal.aborted) timer = setTimeout(() => void load(), POLL_MS);
    };
    void load();
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
    };
  }, [runId, stepId, live, polling]);

  // All hosts: the results' own list, whose identity changes only when a host is added.
  const allHosts = results?.hosts ?? NO_HOSTS;
  const hosts = useMemo(() => (host === '' ? allHosts : allHosts.filter((h) => h === host)), [allHosts, host]);
  const hostLog = useMemo(
    () => (host === '' ? [] : hostLogLines(logLines, host)),
    // the lines grow in place; logVersion says when
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [logLines, logVersion, host],
  );
  const failedHosts = useMemo(
    () =>
      results
        ? Object.entries(results.recap)
            .filter(([, c]) => c.failed > 0 || c.unreachable > 0)
            .map(([h]) => h)
        : [],
    [results],
  );

  const rerun = async () => {
    setBusy(true);
    try {
      const r = await rerunFailedHosts(runId);
      toast(`Re-running on ${r.limit}`);
      navigate(`/runs/${r.run.id}`);
    } catch (err) {
      toast(errorMessage(err), 'error');
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card ansible-results" data-testid={`ansible-results-${stepId}`}>
      <div className="card-head">
        <h2>Ansible: {stepName}</h2>
        <div className="row">
          <label className="faint">
            Host{' '}
            <select value={host} onChange={(e) => setHost(e.target.value)} data-testid="ansible-host-filter">
              <option value="">all hosts</option>
              <HostOptions hosts={allHosts} />
            </select>
          </label>
          {canRerun && !live && failedHosts.length > 0 && (
            <button type="button" className="btn" disabled={busy} onClick={() => void rerun()} data-testid="ansible-rerun-failed">
              ↻ Re-run on {failedHosts.length} failed {failedHosts.length === 1 ? 'host' : 'hosts'}
            </button>
          )}
        </div>
      </div>
      {!results || results.tasks.length === 0 ? (
        <p className="faint">{live ? 'Waiting for the first task…' : 'No Ansible results for this step.'}</p>
      ) : (
        <>
          <TaskGrid tasks={results.tasks} hosts={hosts} />
          <RecapTable results={results} hosts={hosts} />
        </>
      )}
      {host !== '' && (
        <div className="ansible-host-log">
          <h3 className="faint">Log of {host}</h3>
          {hostLog.length === 0 ? <p className="faint">Nothing of {host} in the log yet.</p> : <pre data-testid="ansible-host-log">{hostLog.join('\n')}</pre>}
        </div>
      )}
    </section>
  );
}

const HostOptions = memo(function HostOptions({ hosts }: { hosts: string[] }) {
  return hosts.map((h) => (
    <option key={h} value={h}>
      {h}
    </option>
  ));
});
