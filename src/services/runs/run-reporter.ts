/**
 * The engine's RunReporter, implemented with the store and the event bus: every status change is
 * written, then published with the run's progress and current step (kept in memory here, so
 * publishing needs no extra query).
 */
import type { RunReporter } from '../../engine/ports.js';
import type { EventBus } from '../../events/event-bus.js';
import type { Run, RunsRepository, StepRun } from '../../store/runs-repository.js';
import type { RunStatus } from '../../domain/status.js';
import { currentStepOf, progressOf } from './run-view.js';
import type { ProcessRegistry } from '../../engine/process-registry.js';
import { retryWhileUnavailable } from '../../store/unavailable.js';
import type { AnsibleEventsRepository } from '../../store/ansible-events-repository.js';
import type { AnsibleEvent } from '../../domain/ansible-events.js';

/** A status write that survives a short database outage: the run's outcome must not be lost to it. */
const stored = <T>(write: () => Promise<T>) => retryWhileUnavailable(write);

export class StoreRunReporter implements RunReporter {
  private readonly steps: StepRun[];
  private status: RunStatus;

  /** The next seq of each step's Ansible events. */
  private readonly ansibleSeq = new Map<number, number>();

  constructor(
    private readonly run: Run,
    private readonly runs: RunsRepository,
    private readonly events: EventBus,
    private readonly processes: ProcessRegistry | null = null,
    /** Where Ansible steps' structured results are kept; without it they are only published. */
    private readonly ansible: AnsibleEventsRepository | null = null,
  ) {
    this.steps = run.steps.map((s) => ({ ...s }));
    this.status = run.status;
  }

  async runStarted(e: { at: Date }): Promise<void> {
    this.status = 'running';
    await stored(() => this.runs.markRunning(this.run.id, e.at.toISOString()));
    this.publish(e.at);
  }

  async stepStarted(e: { stepId: number; attempt: number; at: Date }): Promise<void> {
    const at = e.at.toISOString();
    await stored(() => this.runs.stepStarted(e.stepId, e.attempt, at));
    this.patch(e.stepId, { status: 'running', attempts: e.attempt, started_at: this.step(e.stepId)?.started_at ?? at, finished_at: null });
    this.publish(e.at);
  }

  processStarted(e: { stepId: number; pid: number }): void {
    this.processes?.track(this.run.id, e.stepId, e.pid);
  }

  async stepFinished(e: Parameters<RunReporter['stepFinished']>[0]): Promise<void> {
    this.processes?.untrackStep(this.run.id, e.stepId);
    const at = e.at.toISOString();
    await stored(() => this.runs.stepFinished(e.stepId, { status: e.status, exitCode: e.exitCode, attempts: e.attempts, at, message: e.message ?? null }));
    // A manual run of a branch learns its commit from the checkout.
    if (e.commit) await stored(() => this.runs.recordCommit(this.run.id, e.commit!));
    this.patch(e.stepId, { status: e.status, exit_code: e.exitCode, attempts: e.attempts, finished_at: at });
    this.publish(e.at);
  }

  /** Numbers the events for the step, stores them, then publishes them (stored first: a late viewer reads them). */
  async ansibleEvents(e: { stepId: number; events: AnsibleEvent[] }): Promise<void> {
    let next = this.ansibleSeq.get(e.stepId);
    if (next === undefined) next = (this.ansible ? await stored(() => this.ansible!.lastSeq(this.run.id, e.stepId)) : 0) + 1;
    const numbered = e.events.map((event, i) => ({ ...event, seq: next! + i }));
    this.ansibleSeq.set(e.stepId, next + numbered.length);
    if (this.ansible) await stored(() => this.ansible!.append(this.run.id, e.stepId, numbered));
    this.events.publish({ type: 'ansible', runId: this.run.id, stepId: e.stepId, events: numbered });
  }

  async stepsSettled(e: { stepIds: number[]; status: 'skipped' | 'cancelled'; at: Date }): Promise<void> {
    if (e.stepIds.length === 0) return;
    const at = e.at.toISOString();
    await stored(() => this.runs.settleSteps(this.run.id, e.stepIds, e.status, at));
    for (const id of e.stepIds) this.patch(id, { status: e.status, finished_at: at });
    this.publish(e.at);
  }

  /** Publishes the final status (after the run row is written by the worker). */
  finished(status: RunStatus, at: Date): void {
    this.status = status;
    this.publish(at);
  }

  private step(id: number) {
    return this.steps.find((s) => s.id === id);
  }

  private patch(id: number, fields: Partial<StepRun>) {
    const step = this.step(id);
    if (step) Object.assign(step, fields);
  }

  private publish(at: Date) {
    this.events.publish({
      type: 'run_status',
      runId: this.run.id,
      pipelineId: this.run.pipeline.id,
      status: this.status,
      progress: progressOf(this.status, this.steps),
      currentStep: currentStepOf(this.steps),
      at: at.toISOString(),
    });
  }
}
