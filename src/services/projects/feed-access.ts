/**
 * Who may watch which live feed (the gateway's WebSocket): a run's, its project's members and
 * admins, as for the run API; an inventory's connectivity checks, whoever may read the inventory
 * (the same `read` of its project as GET /api/inventories/{id}/). A run or inventory the watcher
 * may not read is answered as an unknown one.
 */
import { isAdmin, type Actor } from '../../domain/permissions.js';
import type { ProjectsRepository } from '../../store/projects-repository.js';
import type { RunsRepository } from '../../store/runs-repository.js';
import type { InventoriesRepository } from '../../store/inventories-repository.js';
import type { ProjectAccess } from './project-access.js';

export class FeedAccess {
  constructor(
    private readonly runs: Pick<RunsRepository, 'projectOf'>,
    private readonly projects: Pick<ProjectsRepository, 'membershipsOf'>,
    private readonly access: ProjectAccess,
    private readonly inventories: Pick<InventoriesRepository, 'projectOf'>,
  ) {}

  /** False for a run that does not exist and for one the actor may not read (both: close 4404). */
  async canWatchRun(actor: Actor, runId: number): Promise<boolean> {
    const projectId = await this.runs.projectOf(runId);
    return projectId !== null && (await this.access.decision(actor, projectId, 'read')) === 'allow';
  }

  /** False for an inventory that does not exist and for one the actor may not read (both: close 4404). */
  async canWatchInventory(actor: Actor, inventoryId: number): Promise<boolean> {
    const projectId = await this.inventories.projectOf(inventoryId);
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
