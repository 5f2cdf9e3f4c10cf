/**
 * Fan-out of live run events to WebSocket clients. One event-bus subscription per watched run
 * (not per client); each message is serialised once and the same bytes go to every client.
 *
 * Per run, status work is serialised on one promise chain: a status event reads the run's steps
 * once (for all clients) and the messages leave in event order; a new client's initial state is
 * read on the same chain, so it is never older than an update the client then receives.
 * Log chunks are not chained: they go out as they arrive.
 *
 * Messages (CONTRACT.md, Gateway):
 *   {"type":"pipeline_status_update","data":{run_id, status, current_step, progress, steps, at}}
 *   {"type":"log","data":{run_id, step_id, offset, text}}
 *   {"type":"resync", ...} see feed-client.ts
 * The all-runs feed sends pipeline_status_update of every run with {run_id, pipeline_id, status,
 * current_step, progress, at} (no steps: that would cost a read per event of every run).
 */
import type { EventBus, RunEvent, RunStatusEvent, Unsubscribe } from '../../events/event-bus.js';
import { isFinalRunStatus } from '../../domain/status.js';
import { coerceError } from '../../domain/errors.js';
import type { Run, RunsRepository } from '../../store/runs-repository.js';
import type { FeedClient } from './feed-client.js';
import { currentStepOf, progressOf } from '../../services/runs/run-view.js';

const encode = (message: unknown) => Buffer.from(JSON.stringify(message));

// Raw step fields only: building the whole runBody (variables, progress) per event was wasted work.
const stepsOf = (run: Run) =>
  run.steps.map(({ id, name, type, status, started_at, finished_at, exit_code }) => ({ id, name, type, status, started_at, finished_at, exit_code }));

class RunChannel {
  readonly clients = new Set<FeedClient>();
  private chain: Promise<void> = Promise.resolve();
  private readonly unsubscribe: Unsubscribe;

  constructor(
    private readonly runId: number,
    private readonly deps: { events: EventBus; runs: Pick<RunsRepository, 'findById'>; onError: (e: Error) => void },
  ) {
    this.unsubscribe = deps.events.subscribeRun(runId, (event) => this.onEvent(event));
  }

  /** Sends the current state to `client`, then what happens next. Resolves false for an unknown run. */
  join(client: FeedClient): Promise<boolean> {
    this.clients.add(client);
    return this.enqueue(async () => {
      const run = await this.deps.runs.findById(this.runId);
      if (!run) return false;
      const data = encode({
        type: 'pipeline_status_update',
        data: {
          run_id: run.id,
          status: run.status,
          current_step: currentStepOf(run.steps),
          progress: progressOf(run.status, run.steps),
          steps: stepsOf(run),
          at: run.finished_at ?? run.started_at ?? run.created_at,
        },
      });
      // The state first, then the log chunks that arrived while it was read.
      client.sendStatus(data, isFinalRunStatus(run.status));
      client.release();
      return true;
    });
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
        const data = encode({ type: 'log', data: { run_id: event.runId, step_id: event.stepId, offset: event.offset, text: event.text } });
        for (const client of this.clients) client.sendLog(data, event.stepId, event.offset);
        return;
      }
      case 'run_status':
        void this.enqueue(async () => {
          const run = await this.deps.runs.findById(this.runId).catch(() => null);
          const data = encode({
            type: 'pipeline_status_update',
            data: {
              run_id: event.runId,
              status: event.status,
              current_step: event.currentStep,
              progress: event.progress,
              ...(run ? { steps: stepsOf(run) } : {}),
              at: event.at,
            },
          });
          const final = isFinalRunStatus(event.status);
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

  constructor(private readonly deps: { events: EventBus; runs: Pick<RunsRepository, 'findById' | 'projectOf'>; onError: (e: Error) => void }) {}

  get size(): number {
    let n = this.allClients.size;
    for (const channel of this.channels.values()) n += channel.clients.size;
    return n;
  }

  /** Watches one run; resolves false (and stops watching) when the run does not exist. */
  async watchRun(runId: number, client: FeedClient): Promise<boolean> {
    let channel = this.channels.get(runId);
    if (!channel) this.channels.set(runId, (channel = new RunChannel(runId, this.deps)));
    const known = await channel.join(client);
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
