/** The run use cases the API calls, with their dependencies bound. */
import type { Actor } from '../../domain/permissions.js';
import { notFound } from '../../domain/errors.js';
import type { LogStore } from '../../engine/ports.js';
import type { Run, RunFilter, RunsRepository, UnfinishedRun } from '../../store/runs-repository.js';
import type { HistoryWindow } from '../../store/history-window.js';
import { cancelRun, cancelUnfinishedRun, type CancelDeps } from './cancel-run.js';
import type { CommitStatus, CommitStatusesRepository } from '../../store/commit-statuses-repository.js';
import { configErrorsLog, readText } from './config-errors-log.js';
import { triggerRun, triggerRunsIn, type TriggerDeps, type TriggerInput } from './trigger-run.js';
import type { StoreTx } from '../../store/transaction.js';

export class RunsService {
  constructor(
    private readonly deps: TriggerDeps & CancelDeps & { logs: LogStore; runs: RunsRepository; commitStatuses?: Pick<CommitStatusesRepository, 'forRun'> },
  ) {}

  /** The commit statuses a run reports on its forge commit (the caller has read the run already). */
  async commitStatuses(runId: number): Promise<CommitStatus[]> {
    return (await this.deps.commitStatuses?.forRun(runId)) ?? [];
  }

  trigger(actor: Actor | null, input: TriggerInput): Promise<Run> {
    return triggerRun(this.deps, actor, input);
  }

  /** Runs the platform starts (no actor) inside the caller's transaction (the scheduler's batch): see `triggerRunsIn`. */
  triggerIn(tx: StoreTx, inputs: readonly TriggerInput[]) {
    return triggerRunsIn(this.deps, tx, inputs);
  }

  cancel(actor: Actor, runId: number): Promise<Run> {
    return cancelRun(this.deps, actor, runId);
  }

  /** Auto-cancel: a newer run of the same branch or pull request supersedes this one (no user asks). */
  supersede(run: UnfinishedRun, reason: string): Promise<void> {
    return cancelUnfinishedRun(this.deps, run, { actor: null, reason });
  }

  /** The run, if the actor may read it (404 otherwise, as for one that does not exist). */
  async get(actor: Actor, runId: number): Promise<Run> {
    const run = await this.deps.runs.findById(runId);
    if (!run) throw notFound('Run');
    await this.deps.access.require(actor, run.project_id, 'read', { what: 'Run' });
    return run;
  }

  /** What the actor may read, narrowed by the filter (a `project` the actor cannot read is a 404). */
  async list(actor: Actor, filter: Omit<RunFilter, 'memberId'>, page: HistoryWindow) {
    if (filter.project !== undefined) await this.deps.access.requireReadable(actor, filter.project);
    return this.deps.runs.list({ ...filter, ...this.deps.access.readFilter(actor) }, page);
  }

  /** A run's log (whole run, or one step) from a byte offset; an invalid pipeline file's problems are its whole log. */
  async readLog(run: Run, stepId: number | null, offset: number): Promise<{ data: Buffer; nextOffset: number }> {
    const problems = stepId === null ? configErrorsLog(run) : null;
    if (problems !== null) return readText(problems, offset);
    return this.deps.logs.read({ runId: run.id, stepId, offset });
  }
}
