/**
 * Who may watch which live run feed (the gateway's WebSocket): the run's project's members and
 * admins, as for the run API. A run the watcher may not read is answered as an unknown one.
 */
import { isAdmin, type Actor } from '../../domain/permissions.js';
import type { ProjectsRepository } from '../../store/projects-repository.js';
import type { RunsRepository } from '../../store/runs-repository.js';
import type { ProjectAccess } from './project-access.js';

export class FeedAccess {
  constructor(
    private readonly runs: Pick<RunsRepository, 'projectOf'>,
    private readonly projects: Pick<ProjectsRepository, 'membershipsOf'>,
    private readonly access: ProjectAccess,
  ) {}

  /** False for a run that does not exist and for one the actor may not read (both: close 4404). */
  async canWatchRun(actor: Actor, runId: number): Promise<boolean> {
    const projectId = await this.runs.projectOf(runId);
    return projectId !== null && (await this.access.decision(actor, projectId, 'read')) === 'allow';
  }

  /** The projects whose runs the all-runs feed shows this actor; null: every project (an admin). */
  async watchableProjects(actor: Actor): Promise<ReadonlySet<number> | null> {
    if (isAdmin(actor)) return null;
    return new Set((await this.projects.membershipsOf(actor.id)).keys());
  }

  projectOfRun(runId: number): Promise<number | null> {
    return this.runs.projectOf(runId);
  }
}
