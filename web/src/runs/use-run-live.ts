/**
 * A run and its log, kept live. Loads the run and each started step's log over REST, then follows
 * the gateway WebSocket (status updates and log chunks by byte offset). Chunks are merged without
 * gaps or duplicates (log-offsets.ts); a gap triggers a REST read from the last known byte. When the
 * socket cannot be used, it polls the run and reads logs with `?offset=`. Renders are coalesced to
 * one per animation frame, so a fast log never floods React. Ansible steps' `ansible_events` are
 * handed to whoever subscribed (the task × host grid).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/api-error';
import { getRun, getRunLog } from '../api/endpoints';
import { openRunSocket, type SocketState } from '../api/run-socket';
import { isFinalRun, type AnsibleEvent, type Run, type RunStep, type StatusUpdateMessage } from '../api/types';
import { appendText, createSection, type LogSection } from '../log/log-document';
import { acceptChunk, byteLength, drainChunks, type PendingChunk } from '../log/log-offsets';
import { parseRunLog } from '../log/run-log-parser';

export type LiveMode = 'connecting' | 'live' | 'polling' | 'finished';

interface StepStream {
  section: LogSection;
  known: number;
  loading: boolean;
  again: boolean;
  pending: PendingChunk[];
}

const POLL_MS = 2000;
const PREAMBLE = -1;

function sectionKey(stepId: number | null): string {
  return stepId === null ? 'preamble' : `step-${stepId}`;
}

export interface RunLiveState {
  run: Run | null;
  error: unknown;
  sections: LogSection[];
  version: number;
  mode: LiveMode;
  /** Replace the run after an action (cancel) without waiting for the socket. */
  patchRun: (patch: Partial<Run>) => void;
  /** Ansible steps' per-host events as the WebSocket brings them (the grid fills from them); returns the unsubscribe. */
  subscribeAnsible: (listener: AnsibleListener) => () => void;
}

export type AnsibleListener = (stepId: number, events: AnsibleEvent[]) => void;

export function useRunLive(runId: string): RunLiveState {
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [sections, setSections] = useState<LogSection[]>([]);
  const [version, setVersion] = useState(0);
  const [mode, setMode] = useState<LiveMode>('connecting');
  const runRef = useRef<Run | null>(null);
  const ansibleListeners = useRef(new Set<AnsibleListener>());
  const subscribeAnsible = useCallback((listener: AnsibleListener) => {
    ansibleListeners.current.add(listener);
    return () => {
      ansibleListeners.current.delete(listener);
    };
  }, []);

  const patchRun = useCallback((patch: Partial<Run>) => {
    setRun((r) => {
      const next = r ? { ...r, ...patch } : r;
      runRef.current = next;
      return next;
    });
  }, []);

  useEffect(() => {
    let disposed = false;
    let frame: number | null = null;
    let pollTimer: ReturnType<typeof setTimeout> | null = null;
    let closeSocket: (() => void) | null = null;
    let wholeLogMode = false;
    const streams = new Map<number, StepStream>();
    let ordered: LogSection[] = [];

    setRun(null);
    setError(null);
    setSections([]);
    setMode('connecting');
    runRef.current = null;

    const render = () => {
      if (frame !== null || disposed) return;
      frame = requestAnimationFrame(() => {
        frame = null;
        if (!disposed) setVersion((v) => v + 1);
      });
    };

    const publishSections = () => {
      const steps = runRef.current?.steps ?? [];
      const order = new Map(steps.map((s, i) => [s.id, i]));
      ordered = [...streams.entries()]
        .sort(([a], [b]) => (a === PREAMBLE ? -1 : b === PREAMBLE ? 1 : (order.get(a) ?? 1e9) - (order.get(b) ?? 1e9) || a - b))
        .map(([, s]) => s.section)
        // the preamble only shows when it has text
        .filter((s) => s.stepId !== null || s.lines.length > 0 || s.partial !== '');
      setSections(ordered);
      render();
    };

    const streamFor = (stepId: number | null): StepStream => {
      const key = stepId ?? PREAMBLE;
      let stream = streams.get(key);
      if (!stream) {
        const step = runRef.current?.steps?.find((s) => s.id === stepId);
        const title = stepId === null ? 'Run' : (step?.name ?? `Step ${stepId}`);
        stream = { section: createSection(sectionKey(stepId), stepId, title), known: 0, loading: false, again: false, pending: [] };
        streams.set(key, stream);
        publishSections();
      }
      return stream;
    };

    const ensureSections = (steps: RunStep[] | undefined) => {
      let added = false;
      for (const step of steps ?? []) {
        if (!streams.has(step.id)) {
          streams.set(step.id, { section: createSection(sectionKey(step.id), step.id, step.name), known: 0, loading: false, again: false, pending: [] });
          added = true;
        }
      }
      if (added) publishSections();
    };

    const loadWholeLog = async () => {
      const { text } = await getRunLog(runId);
      if (disposed) return;
      const steps = runRef.current?.steps ?? [];
      const parsed = parseRunLog(text, steps);
      streams.clear();
      for (const section of parsed)
        streams.set(section.stepId ?? (section.key === 'preamble' ? PREAMBLE : -1000 - streams.size), {
          section,
          known: 0,
          loading: false,
          again: false,
          pending: [],
        });
      ensureSections(steps);
      publishSections();
    };

    const syncStep = async (stepId: number | null): Promise<void> => {
      if (wholeLogMode) return;
      const stream = streamFor(stepId);
      if (stream.loading) {
        stream.again = true;
        return;
      }
      stream.loading = true;
      try {
        const from = stream.known;
        const { text, nextOffset } = await getRunLog(runId, { step: stepId, offset: from });
        if (disposed) return;
        if (stream.known === from && text !== '') {
          appendText(stream.section, text);
          stream.known = nextOffset ?? from + byteLength(text);
        } else if (stream.known === from && nextOffset !== null) {
          stream.known = Math.max(stream.known, nextOffset);
        }
        const drained = drainChunks(stream.known, stream.pending);
        stream.pending = [];
        if (drained.text !== '') appendText(stream.section, drained.text);
        stream.known = drained.known;
        if (drained.gapFrom !== null) stream.again = true;
        render();
      } catch (err) {
        if (disposed) return;
        // a server without per-step logs: fall back to the whole-run log
        if (err instanceof ApiError && err.status === 400 && stepId !== null) {
          wholeLogMode = true;
          await loadWholeLog().catch(() => undefined);
        }
      } finally {
        stream.loading = false;
      }
      if (stream.again && !disposed) {
        stream.again = false;
        await syncStep(stepId);
      }
    };

    const syncStartedSteps = (steps: RunStep[] | undefined) => Promise.all((steps ?? []).filter((s) => s.status !== 'pending').map((s) => syncStep(s.id)));

    const onLog = (stepId: number | null, offset: number, text: string) => {
      const stream = streamFor(stepId);
      if (stream.loading) {
        stream.pending.push({ offset, text });
        return;
      }
      const decision = acceptChunk(stream.known, offset, text);
      if (decision.kind === 'append') {
        appendText(stream.section, decision.text);
        stream.known = decision.nextOffset;
        if (stepId === null) publishSections();
        else render();
      } else if (decision.kind === 'gap') {
        stream.pending.push({ offset, text });
        void syncStep(stepId);
      }
    };

    const finish = async () => {
      stopLive();
      try {
        const fresh = await getRun(runId);
        if (disposed) return;
        runRef.current = fresh;
        setRun(fresh);
        ensureSections(fresh.steps);
        if (wholeLogMode) await loadWholeLog();
        else await syncStartedSteps(fresh.steps);
      } catch {
        // keep what we have
      }
      if (!disposed) setMode('finished');
    };

    const onStatus = (data: StatusUpdateMessage['data']) => {
      const previous = runRef.current;
      if (!previous) return;
      const steps = data.steps ? mergeSteps(previous.steps, data.steps) : previous.steps;
      const next: Run = { ...previous, status: data.status, progress: data.progress, current_step: data.current_step, steps };
      if (previous.status === 'queued' && data.status === 'running' && !next.started_at) next.started_at = new Date().toISOString();
      runRef.current = next;
      setRun(next);
      ensureSections(steps);
      if (isFinalRun(data.status)) void finish();
    };

    const stopLive = () => {
      closeSocket?.();
      closeSocket = null;
      if (pollTimer !== null) clearTimeout(pollTimer);
      pollTimer = null;
    };

    const poll = async () => {
      pollTimer = null;
      try {
        const fresh = await getRun(runId);
        if (disposed) return;
        const wasFinal = isFinalRun(fresh.status);
        runRef.current = fresh;
        setRun(fresh);
        ensureSections(fresh.steps);
        if (wholeLogMode) await loadWholeLog();
        else await syncStartedSteps(fresh.steps?.filter((s) => s.status === 'running' || (s.finished_at && Date.now() - Date.parse(s.finished_at) < 30_000)));
        if (wasFinal) {
          await finish();
          return;
        }
      } catch {
        // transient: try again
      }
      if (!disposed) pollTimer = setTimeout(() => void poll(), POLL_MS);
    };

    const startPolling = () => {
      closeSocket?.();
      closeSocket = null;
      setMode('polling');
      if (pollTimer === null) pollTimer = setTimeout(() => void poll(), 0);
    };

    (async () => {
      try {
        const initial = await getRun(runId);
        if (disposed) return;
        runRef.current = initial;
        setRun(initial);
        ensureSections(initial.steps);
        const final = isFinalRun(initial.status);
        if (!final) {
          closeSocket = openRunSocket(Number(runId), {
            onMessage(message) {
              if (message.type === 'pipeline_status_update') onStatus(message.data);
              else if (message.type === 'log') onLog(message.data.step_id, message.data.offset, message.data.text);
              else if (message.type === 'ansible_events') for (const listener of ansibleListeners.current) listener(message.data.step_id, message.data.events);
            },
            onState(state: SocketState) {
              if (disposed) return;
              if (state === 'open') setMode('live');
              if (state === 'failed') startPolling();
            },
            isDone: () => (runRef.current ? isFinalRun(runRef.current.status) : false),
          });
        }
        await syncStartedSteps(initial.steps);
        // also pick up run-level output (before the first step), if the server keeps any
        if (final) setMode('finished');
      } catch (err) {
        if (!disposed) setError(err);
      }
    })();

    return () => {
      disposed = true;
      stopLive();
      if (frame !== null) cancelAnimationFrame(frame);
    };
  }, [runId]);

  return { run, error, sections, version, mode, patchRun, subscribeAnsible };
}

/** Status updates may carry partial step lists: merge by id, keeping fields the update lacks. */
function mergeSteps(current: RunStep[] | undefined, updates: RunStep[]): RunStep[] {
  if (!current || current.length === 0) return updates;
  const byId = new Map(updates.map((s) => [s.id, s]));
  const merged = current.map((s) => {
    const u = byId.get(s.id);
    return u ? { ...s, ...u } : s;
  });
  for (const u of updates) if (!current.some((s) => s.id === u.id)) merged.push(u);
  return merged;
}
