/** The run use cases the API calls, with their dependencies bound. */
import type { Actor } from '../../domain/roles.js';
import { notFound } from '../../domain/errors.js';
import type { RunStatus } from '../../domain/status.js';
import type { LogStore } from '../../engine/ports.js';
import type { Run, RunsRepository } from '../../store/runs-repository.js';
import { cancelRun, type CancelDeps } from './cancel-run.js';
import { triggerRun, type TriggerDeps, type TriggerInput } from './trigger-run.js';

export class RunsService {
  constructor(private readonly deps: TriggerDeps & CancelDeps & { logs: LogStore; runs: RunsRepository }) {}

  trigger(actor: Actor | null, input: TriggerInput): Promise<Run> {
    return triggerRun(this.deps, actor, input);
  }

  cancel(actor: Actor, runId: number): Promise<Run> {
    return cancelRun(this.deps, actor, runId);
  }

  async get(runId: number): Promise<Run> {
    const run = await this.deps.runs.findById(runId);
    if (!run) throw notFound('Run');
    return run;
  }

  list(filter: { pipelineId?: number; status?: RunStatus }, page: { limit: number; offset: number }) {
    return this.deps.runs.list(filter, page);
  }

  readLog(runId: number, stepId: number | null, offset: number) {
    return this.deps.logs.read({ runId, stepId, offset });
  }
}
