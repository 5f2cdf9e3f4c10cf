/**
 * An Ansible step's structured results (GET /api/pipeline-runs/{id}/steps/{step_id}/ansible/)
 * and the re-run on failed hosts (POST /api/pipeline-runs/{id}/rerun-failed-hosts/).
 *
 * Reading is reading the run. A re-run is a new run of the same pipeline at the same commit with
 * every Ansible step limited to the hosts that failed or were unreachable in the original (either
 * counts; they are reported apart); it needs `run`, as starting the pipeline does: the limit and
 * the commit come from the original run, not from the caller.
 */
import { AppError, notFound } from '../../domain/errors.js';
import type { Actor } from '../../domain/permissions.js';
import { hostsToRerun, summariseAnsibleEvents, type AnsibleSummary } from '../../domain/ansible-events.js';
import type { AnsibleEventsRepository } from '../../store/ansible-events-repository.js';
import type { Run } from '../../store/runs-repository.js';
import type { RunsService } from '../runs/runs-service.js';
import type { ProjectAccess } from '../projects/project-access.js';

export class AnsibleResults {
  constructor(private readonly deps: { runs: RunsService; events: AnsibleEventsRepository; access: ProjectAccess }) {}

  async step(actor: Actor, runId: number, stepId: number): Promise<AnsibleSummary & { run_id: number; step_id: number }> {
    const run = await this.deps.runs.get(actor, runId);
    const step = run.steps.find((s) => s.id === stepId);
    if (!step) throw notFound('Step');
    if (step.type !== 'ansible_playbook') throw notFound('Ansible results of this step (it is not an Ansible step)');
    return { run_id: run.id, step_id: step.id, ...summariseAnsibleEvents(await this.deps.events.forStep(run.id, step.id)) };
  }

  async rerunFailedHosts(actor: Actor, runId: number): Promise<{ run: Run; failed: string[]; unreachable: string[]; limit: string }> {
    const original = await this.deps.runs.get(actor, runId);
    await this.deps.access.require(actor, original.project_id, 'run', { what: 'Run' });
    if (original.pipeline.id === null) throw new AppError('RESOURCE_CONFLICT', 'The pipeline of this run was deleted');
    const failed = new Set<string>();
    const unreachable = new Set<string>();
    for (const stepId of await this.deps.events.stepsWithEvents(original.id)) {
      const hosts = hostsToRerun(summariseAnsibleEvents(await this.deps.events.forStep(original.id, stepId)));
      for (const h of hosts.failed) failed.add(h);
      for (const h of hosts.unreachable) unreachable.add(h);
    }
    for (const h of unreachable) failed.delete(h);
    if (failed.size + unreachable.size === 0)
      throw new AppError('RESOURCE_CONFLICT', 'No host failed or was unreachable in this run: there is nothing to re-run');
    const limit = [...failed, ...unreachable].sort().join(',');
    const run = await this.deps.runs.trigger(actor, {
      pipelineId: original.pipeline.id,
      branch: original.branch,
      ...(original.commit ? { commit: original.commit } : {}),
      ansible: { limit },
      derived: true,
      trigger: { type: 'manual', user: { id: actor.id, username: actor.username } },
    });
    return { run, failed: [...failed].sort(), unreachable: [...unreachable].sort(), limit };
  }
}
