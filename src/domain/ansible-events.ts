/**
 * What an Ansible step reports besides its log: the callback plugin (engine/executors/ansible/)
 * writes one JSON object a line as the playbook runs; the engine reads them, masks secrets in
 * their messages, and the reporter stores and streams them. `summariseAnsibleEvents` turns a
 * step's events into what GET /api/pipeline-runs/{id}/steps/{step_id}/ansible/ answers.
 *
 * Unreachable is its own result everywhere, never counted as failed.
 */
export const HOST_RESULTS = ['ok', 'changed', 'failed', 'unreachable', 'skipped', 'rescued', 'ignored'] as const;
export type HostResult = (typeof HOST_RESULTS)[number];

export type AnsibleEvent =
  | { kind: 'play'; seq: number; at: string; play: { id: string; name: string } }
  | { kind: 'task'; seq: number; at: string; play_id: string; task: { id: string; name: string; action: string; handler: boolean } }
  | { kind: 'host'; seq: number; at: string; task_id: string; host: string; status: HostResult; duration_ms: number | null; message: string | null }
  | { kind: 'recap'; seq: number; at: string; host: string; counts: Record<HostResult | 'ok', number> };

/** Longest message kept per host result (the full output is in the log). */
export const MAX_EVENT_MESSAGE = 2000;

/** A line of the plugin's output as an event, or null when it is not one (a damaged or foreign line). */
export function parseAnsibleEvent(line: string): AnsibleEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const e = value as Record<string, unknown>;
  if (typeof e.seq !== 'number' || typeof e.at !== 'string') return null;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  switch (e.kind) {
    case 'play': {
      const play = (e.play ?? {}) as Record<string, unknown>;
      return { kind: 'play', seq: e.seq, at: e.at, play: { id: str(play.id), name: str(play.name) } };
    }
    case 'task': {
      const task = (e.task ?? {}) as Record<string, unknown>;
      return {
        kind: 'task',
        seq: e.seq,
        at: e.at,
        play_id: str(e.play_id),
        task: { id: str(task.id), name: str(task.name), action: str(task.action), handler: task.handler === true },
      };
    }
    case 'host': {
      if (!HOST_RESULTS.includes(e.status as HostResult) || typeof e.host !== 'string') return null;
      const message = typeof e.message === 'string' ? e.message.slice(0, MAX_EVENT_MESSAGE) : null;
      return {
        kind: 'host',
        seq: e.seq,
        at: e.at,
        task_id: str(e.task_id),
        host: e.host,
        status: e.status as HostResult,
        duration_ms: typeof e.duration_ms === 'number' ? Math.round(e.duration_ms) : null,
        message,
      };
    }
    case 'recap': {
      if (typeof e.host !== 'string') return null;
      const raw = (e.counts ?? {}) as Record<string, unknown>;
      const counts = Object.fromEntries(HOST_RESULTS.map((k) => [k, typeof raw[k] === 'number' ? raw[k] : 0])) as Record<HostResult, number>;
      return { kind: 'recap', seq: e.seq, at: e.at, host: e.host, counts };
    }
    default:
      return null;
  }
}

export interface AnsibleSummary {
  plays: Array<{ id: string; name: string; tasks: string[] }>;
  tasks: Array<{
    id: string;
    play_id: string;
    name: string;
    action: string;
    handler: boolean;
    started_at: string;
    hosts: Record<string, { status: HostResult; duration_ms: number | null; message: string | null }>;
  }>;
  /** Per host: Ansible's own recap once the playbook ended, else counted from the results so far. */
  recap: Record<string, Record<HostResult, number>>;
  /** Whether Ansible's recap arrived (the playbook ran to its end). */
  finished: boolean;
  hosts: string[];
  /** The highest `seq` summarised (0: none): a live view applies only WebSocket events after it. */
  last_seq: number;
}

export function summariseAnsibleEvents(events: readonly AnsibleEvent[]): AnsibleSummary {
  const plays = new Map<string, AnsibleSummary['plays'][number]>();
  const tasks = new Map<string, AnsibleSummary['tasks'][number]>();
  const counted: AnsibleSummary['recap'] = {};
  const recap: AnsibleSummary['recap'] = {};
  const hosts = new Set<string>();
  let lastSeq = 0;
  const zero = () => Object.fromEntries(HOST_RESULTS.map((k) => [k, 0])) as Record<HostResult, number>;
  for (const e of [...events].sort((a, b) => a.seq - b.seq)) {
    lastSeq = Math.max(lastSeq, e.seq);
    if (e.kind === 'play') plays.set(e.play.id, { id: e.play.id, name: e.play.name, tasks: [] });
    else if (e.kind === 'task') {
      // A task id comes again when a play runs it for another batch (serial): one row, more hosts.
      if (!tasks.has(e.task.id)) {
        tasks.set(e.task.id, {
          id: e.task.id,
          play_id: e.play_id,
          name: e.task.name,
          action: e.task.action,
          handler: e.task.handler,
          started_at: e.at,
          hosts: {},
        });
        plays.get(e.play_id)?.tasks.push(e.task.id);
      }
    } else if (e.kind === 'host') {
      hosts.add(e.host);
      const task = tasks.get(e.task_id);
      if (task) task.hosts[e.host] = { status: e.status, duration_ms: e.duration_ms, message: e.message };
      (counted[e.host] ??= zero())[e.status]++;
    } else {
      hosts.add(e.host);
      recap[e.host] = e.counts;
    }
  }
  const finished = Object.keys(recap).length > 0;
  return { plays: [...plays.values()], tasks: [...tasks.values()], recap: finished ? recap : counted, finished, hosts: [...hosts].sort(), last_seq: lastSeq };
}

/** The hosts a re-run should target: any that failed or were unreachable, by the recap (or the results so far). */
export function hostsToRerun(summary: AnsibleSummary): { failed: string[]; unreachable: string[] } {
  const failed: string[] = [];
  const unreachable: string[] = [];
  for (const [host, counts] of Object.entries(summary.recap)) {
    if (counts.unreachable > 0) unreachable.push(host);
    else if (counts.failed > 0) failed.push(host);
  }
  return { failed: failed.sort(), unreachable: unreachable.sort() };
}
