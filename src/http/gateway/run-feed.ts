/**
 * Fan-out of live run events to WebSocket clients. One event-bus subscription per watched run
 * (not per client); each message is serialised once and the same bytes go to every client.
 *
 * Per run, status work is serialised on one promise chain: a status event reads the run once (for
 * all clients) and the messages leave in event order; a new client's initial state is read on the
 * same chain, so it is never older than an update the client then receives. A status message is
 * built from that one read (status, progress, current step and steps together), so it is never
 * older than the steps it carries, even when the event that caused it is.
 *
 * A client that joins a run still going gets, after the state, the log written so far (its
 * backlog: every step from the start, or from `from`), then the live chunks: it subscribed before
 * the backlog was read, and FeedClient drops the bytes it already has, so nothing is missed and
 * nothing repeated. Log chunks are not chained: they go out as they arrive.
 *
 * Messages (CONTRACT.md, Gateway):
 *   {"type":"pipeline_status_update","data":{run_id, status, current_step, progress, steps, at}}
 *   {"type":"log","data":{run_id, step_id, offset, text}}
 *   {"type":"ansible_events","data":{run_id, step_id, events}} (an Ansible step's per-host results, live)
 *   {"type":"resync", ...} see feed-client.ts
 * The all-runs feed sends pipeline_status_update of every run with {run_id, pipeline_id, status,
 * current_step, progress, at} (no steps: that would cost a read per event of every run).
 */
import type { EventBus, RunEvent, RunStatusEvent, Unsubscribe } from '../../events/event-bus.js';
import { isFinalRunStatus } from '../../domain/status.js';
import { coerceError } from '../../domain/errors.js';
import type { Run, RunsRepository } from '../../store/runs-repository.js';
import type { FeedClient, LogChunk } from './feed-client.js';
import type { LogStore } from '../../engine/ports.js';
import { currentStepOf, progressOf } from '../../services/runs/run-view.js';

const encode = (message: unknown) => Buffer.from(JSON.stringify(message));

/** Bytes of backlog read at a time. */
const BACKLOG_READ = 64 * 1024;

/** Where a joining client's backlog starts: this step from `offset`, the steps after it from their start, none before it. */
export interface BacklogStart {
  stepId: number | null;
  offset: number;
}

function logChunk(runId: number, stepId: number, offset: number, bytes: Buffer): LogChunk {
  const message = (from: number) =>
    encode({ type: 'log', data: { run_id: runId, step_id: stepId, offset: offset + from, text: bytes.subarray(from).toString() } });
  return { data: message(0), stepId, offset, length: bytes.length, tail: message };
}

/** The length of `data` without an incomplete UTF-8 character at its end (a read may stop inside one). */
function wholeCharacters(data: Buffer): number {
  let i = data.length;
  let back = 0;
  while (i > 0 && back < 4 && (data[i - 1]! & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i === 0) return data.length;
  const lead = data[i - 1]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return need === back + 1 ? data.length : i - 1;
}

const statusMessage = (run: Run, at: string) =>
  encode({
    type: 'pipeline_status_update',
    data: {
      run_id: run.id,
      status: run.status,
      current_step: currentStepOf(run.steps),
      progress: progressOf(run.status, run.steps),
      steps: stepsOf(run),
      at,
    },
  });

// Raw step fields only: building the whole runBody (variables, progress) per event was wasted work.
const stepsOf = (run: Run) =>
  run.steps.map(({ id, name, type, status, started_at, finished_at, exit_code }) => ({ id, name, type, status, started_at, finished_at, exit_code }));

export interface FeedDeps {
  events: EventBus;
  runs: Pick<RunsRepository, 'findById'>;
  /** Where a joining client's backlog is read. */
  logs: Pick<LogStore, 'read'>;
  onError: (e: Error) => void;
}

class RunChannel {
  readonly clients = new Set<FeedClient>();
  private chain: Promise<void> = Promise.resolve();
  private readonly unsubscribe: Unsubscribe;

  constructor(
    private readonly runId: number,
    private readonly deps: FeedDeps,
  ) {
    this.unsubscribe = deps.events.subscribeRun(runId, (event) => this.onEvent(event));
  }

  /** Sends the current state to `client`, the log so far if the run goes on, then what happens next. Resolves false for an unknown run. */
  join(client: FeedClient, from: BacklogStart = { stepId: null, offset: 0 }): Promise<boolean> {
    this.clients.add(client);
    return this.enqueue(async () => {
      const run = await this.deps.runs.findById(this.runId);
      if (!run) return false;
      const final = isFinalRunStatus(run.status);
      // A finished run's log is read over HTTP; a viewer of one still going must miss none of it.
      client.sendFirst(() => client.sendStatus(statusMessage(run, run.finished_at ?? run.started_at ?? run.created_at), final));
      if (!final) await this.sendBacklog(client, run, from);
      client.release();
      return true;
    });
  }

  private async sendBacklog(client: FeedClient, run: Run, from: BacklogStart): Promise<void> {
    const start = from.stepId === null ? 0 : run.steps.findIndex((s) => s.id === from.stepId);
    if (start < 0) return;
    for (const [i, step] of run.steps.slice(start).entries()) {
      let offset = i === 0 ? from.offset : 0;
      for (;;) {
        if (!client.open) return;
        if (client.behind) {
          // Read no more than the client takes: the resync it gets names where to go on over HTTP.
          for (const rest of run.steps.slice(start + i)) client.skipLog(rest.id, rest.id === step.id ? offset : 0);
          return;
        }
        const { data } = await this.deps.logs.read({ runId: run.id, stepId: step.id, offset, limit: BACKLOG_READ });
        if (data.length === 0) break;
        const whole = data.subarray(0, wholeCharacters(data));
        client.sendFirst(() => client.sendLog(logChunk(run.id, step.id, offset, whole)));
        offset += whole.length;
        if (data.length < BACKLOG_READ) break;
      }
    }
  }

  leave(client: FeedClient): boolean {
    this.clients.delete(client);
    if (this.clients.size > 0) return false;
    this.unsubscribe();
    return true;
  }

  private onEvent(event: RunEvent): void {
    switch (event.type) {
      case 'log': {
        const chunk = logChunk(event.runId, event.stepId, event.offset, Buffer.from(event.text));
        for (const client of this.clients) client.sendLog(chunk);
        return;
      }
      case 'ansible': {
        const data = encode({ type: 'ansible_events', data: { run_id: event.runId, step_id: event.stepId, events: event.events } });
        for (const client of this.clients) client.sendAnsible(data);
        return;
      }
      case 'run_status':
        void this.enqueue(async () => {
          const read = await this.deps.runs.findById(this.runId).catch(() => null);
          // One read gives the status and the steps it carries: the event may be older than it.
          // A read older than a final event (it still says the run goes on: a lagging read) is not
          // used: the event's own fields are sent, so the last status before the close is final.
          const run = read && (isFinalRunStatus(read.status) || !isFinalRunStatus(event.status)) ? read : null;
          const data = run
            ? statusMessage(run, isFinalRunStatus(run.status) && !isFinalRunStatus(event.status) ? (run.finished_at ?? event.at) : event.at)
            : encode({
                type: 'pipeline_status_update',
                data: { run_id: event.runId, status: event.status, current_step: event.currentStep, progress: event.progress, at: event.at },
              });
          // The socket closes on the status the message says: a read that is already final closes
          // it at once (the final event that follows finds no client); a non-final one never does.
          const final = isFinalRunStatus(run ? run.status : event.status);
          for (const client of this.clients) client.sendStatus(data, final);
          return true;
        });
        return;
      default: {
        const never: never = event;
        throw new Error(`unknown event ${JSON.stringify(never)}`);
      }
    }
  }

  private enqueue(work: () => Promise<boolean>): Promise<boolean> {
    const result = this.chain.then(work);
    this.chain = result.then(
      () => undefined,
      (thrown: unknown) => this.deps.onError(coerceError(thrown)),
    );
    return result;
  }
}

export class RunFeed {
  private readonly channels = new Map<number, RunChannel>();
  /** All-runs clients with the projects they may see (null: every project). */
  private readonly allClients = new Map<FeedClient, ReadonlySet<number> | null>();
  private unsubscribeAll: Unsubscribe | null = null;
  /** Keeps all-runs messages in event order while a run's project is looked up. */
  private allChain: Promise<void> = Promise.resolve();

  constructor(private readonly deps: FeedDeps & { runs: Pick<RunsRepository, 'findById' | 'projectOf'> }) {}

  get size(): number {
    let n = this.allClients.size;
    for (const channel of this.channels.values()) n += channel.clients.size;
    return n;
  }

  /** Watches one run; resolves false (and stops watching) when the run does not exist. */
  async watchRun(runId: number, client: FeedClient, from?: BacklogStart): Promise<boolean> {
    let channel = this.channels.get(runId);
    if (!channel) this.channels.set(runId, (channel = new RunChannel(runId, this.deps)));
    const known = await channel.join(client, from);
    if (!known) this.unwatchRun(runId, client);
    return known;
  }

  unwatchRun(runId: number, client: FeedClient): void {
    const channel = this.channels.get(runId);
    if (channel?.leave(client)) this.channels.delete(runId);
  }

  /** `projects`: only runs of these projects reach the client (null: all, for an admin). */
  watchAll(client: FeedClient, projects: ReadonlySet<number> | null = null): void {
    this.allClients.set(client, projects);
    this.unsubscribeAll ??= this.deps.events.subscribeAll((event) => this.onAnyStatus(event));
    client.release();
  }

  unwatchAll(client: FeedClient): void {
    this.allClients.delete(client);
    if (this.allClients.size === 0 && this.unsubscribeAll) {
      this.unsubscribeAll();
      this.unsubscribeAll = null;
    }
  }

  clients(): FeedClient[] {
    return [...this.allClients.keys(), ...[...this.channels.values()].flatMap((c) => [...c.clients])];
  }

  private onAnyStatus(event: RunStatusEvent): void {
    const data = encode({
      type: 'pipeline_status_update',
      data: {
        run_id: event.runId,
        pipeline_id: event.pipelineId,
        status: event.status,
        current_step: event.currentStep,
        progress: event.progress,
        at: event.at,
      },
    });
    const limited = [...this.allClients.values()].some((p) => p !== null);
    if (!limited) {
      for (const client of this.allClients.keys()) client.sendStatus(data, false);
      return;
    }
    // Some clients see only their projects: one lookup of the run's project, in event order.
    this.allChain = this.allChain
      .then(async () => {
        const projectId = await this.deps.runs.projectOf(event.runId);
        for (const [client, projects] of this.allClients)
          if (projects === null || (projectId !== null && projects.has(projectId))) client.sendStatus(data, false);
      })
      .catch((thrown: unknown) => this.deps.onError(coerceError(thrown)));
  }
}
