/**
 * An Ansible step's results kept live: the REST answer (GET …/steps/{id}/ansible/) once, then the
 * WebSocket's `ansible_events` applied on top, as the server summarises them
 * (src/domain/ansible-events.ts: summariseAnsibleEvents). Events up to the answer's `last_seq` are
 * already in it and are skipped, so an event that arrives both ways counts once.
 *
 * Pure: each call returns a new object when something changed (the grid is memoised on it).
 */
import type { AnsibleStepResults, HostResult } from '../api/endpoints';
import type { AnsibleEvent } from '../api/types';

const RESULTS: HostResult[] = ['ok', 'changed', 'failed', 'unreachable', 'skipped', 'rescued', 'ignored'];
const zero = () => Object.fromEntries(RESULTS.map((r) => [r, 0])) as Record<HostResult, number>;

export function emptyResults(runId: number, stepId: number): AnsibleStepResults {
  return { run_id: runId, step_id: stepId, plays: [], tasks: [], recap: {}, finished: false, hosts: [], last_seq: 0 };
}

export function applyAnsibleEvents(results: AnsibleStepResults, events: readonly AnsibleEvent[]): AnsibleStepResults {
  const fresh = events.filter((e) => e.seq > results.last_seq).sort((a, b) => a.seq - b.seq);
  if (fresh.length === 0) return results;
  // Copy on write: what a batch did not touch keeps its identity (a task, a host's counts, the
  // host list, a play), so the grid's memoised rows re-render only where a result landed.
  let plays = results.plays;
  const tasks = [...results.tasks];
  const taskIndex = new Map(tasks.map((t, i) => [t.id, i]));
  const copiedTasks = new Set<number>();
  let hosts = results.hosts;
  const newHosts = new Set<string>();
  const addHost = (h: string) => {
    if (!newHosts.has(h) && !hosts.includes(h)) newHosts.add(h);
  };
  let finished = results.finished;
  // Until Ansible's recap arrives the recap counts the results; once it does, it is Ansible's own.
  let recap: AnsibleStepResults['recap'] = { ...results.recap };
  const copiedCounts = new Set<string>();
  const counts = (h: string) => {
    if (!copiedCounts.has(h)) {
      copiedCounts.add(h);
      recap[h] = recap[h] ? { ...recap[h] } : zero();
    }
    return recap[h]!;
  };
  let lastSeq = results.last_seq;
  for (const e of fresh) {
    lastSeq = Math.max(lastSeq, e.seq);
    if (e.kind === 'play') {
      if (!plays.some((p) => p.id === e.play.id)) plays = [...plays, { id: e.play.id, name: e.play.name, tasks: [] }];
    } else if (e.kind === 'task') {
      if (!taskIndex.has(e.task.id)) {
        taskIndex.set(e.task.id, tasks.length);
        copiedTasks.add(tasks.length);
        tasks.push({ id: e.task.id, play_id: e.play_id, name: e.task.name, action: e.task.action, handler: e.task.handler, started_at: e.at, hosts: {} });
        plays = plays.map((p) => (p.id === e.play_id ? { ...p, tasks: [...p.tasks, e.task.id] } : p));
      }
    } else if (e.kind === 'host') {
      addHost(e.host);
      const i = taskIndex.get(e.task_id);
      if (i !== undefined) {
        if (!copiedTasks.has(i)) {
          copiedTasks.add(i);
          tasks[i] = { ...tasks[i]!, hosts: { ...tasks[i]!.hosts } };
        }
        tasks[i]!.hosts[e.host] = { status: e.status, duration_ms: e.duration_ms, message: e.message };
      }
      if (!finished) counts(e.host)[e.status]++;
    } else {
      addHost(e.host);
      if (!finished) {
        // The first recap line: Ansible's counts replace the running ones.
        finished = true;
        recap = {};
      }
      copiedCounts.add(e.host);
      recap[e.host] = { ...zero(), ...(e.counts as Record<HostResult, number>) };
    }
  }
  if (newHosts.size > 0) hosts = [...hosts, ...newHosts].sort();
  return { ...results, plays, tasks, recap, finished, hosts, last_seq: lastSeq };
}
