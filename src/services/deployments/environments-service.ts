/**
 * Environment use cases: list, read, create, replace, delete, deployment history. Reading is the
 * project's `read`; changing an environment changes who may deploy, so it is `manage_environments`
 * (maintainers and owners). Every change is written with its audit event in one transaction;
 * deleting an environment cancels the runs waiting at it, in the same transaction.
 */
import { conflict, notFound, validationError, type ErrorDetails } from '../../domain/errors.js';
import type { Actor } from '../../domain/permissions.js';
import type { Environment } from '../../domain/environments.js';
import { auditDiff, type AuditTarget } from '../../domain/audit.js';
import { branchNameProblem } from '../../domain/git-url.js';
import type { Deployment, EnvironmentFields, EnvironmentsRepository } from '../../store/environments-repository.js';
import type { ProjectAccess } from '../projects/project-access.js';
import type { DefaultProject } from '../pipelines-service.js';
import { entry, type AuditLog } from '../audit/audit-log.js';
import type { StoreTx } from '../../store/transaction.js';
import type { ApprovalGatesRepository } from '../../store/approval-gates-repository.js';
import type { RunsRepository } from '../../store/runs-repository.js';
import type { EventBus } from '../../events/event-bus.js';
import { nowIso } from '../../store/time.js';

/** A create or a replace: absent fields take their defaults (1 approval by maintainers and owners, no timer, no timeout). */
export interface EnvironmentInput {
  name: string;
  /** On create: omitted means the `default` project. An environment never moves. */
  project?: number;
  description?: string;
  required_approvals?: number;
  approvers?: { users?: string[]; roles?: EnvironmentFields['approvers']['roles'] };
  prevent_self_approval?: boolean;
  branches?: string[];
  wait_timer_seconds?: number;
  approval_timeout_seconds?: number | null;
  timeout_outcome?: EnvironmentFields['timeout_outcome'];
  concurrency?: EnvironmentFields['concurrency'];
}

export interface EnvironmentsDeps {
  environments: EnvironmentsRepository;
  gates: ApprovalGatesRepository;
  runs: RunsRepository;
  events: EventBus;
  access: ProjectAccess;
  projects: DefaultProject;
  /** Which usernames exist (an approver who does not is a 400 naming the field). */
  users: { findByUsername(username: string): Promise<unknown> };
  audit: AuditLog;
}

const target = (e: Pick<Environment, 'id' | 'name'>): AuditTarget => ({ type: 'environment', id: e.id, name: e.name });

/** What an audit event shows of an environment (it has no secrets). */
const auditView = (e: Environment | EnvironmentFields) => ({
  name: e.name,
  description: e.description,
  required_approvals: e.required_approvals,
  approvers: e.approvers,
  prevent_self_approval: e.prevent_self_approval,
  branches: e.branches,
  wait_timer_seconds: e.wait_timer_seconds,
  approval_timeout_seconds: e.approval_timeout_seconds,
  timeout_outcome: e.timeout_outcome,
  concurrency: e.concurrency,
  project_id: e.project_id,
});

export class EnvironmentsService {
  constructor(private readonly deps: EnvironmentsDeps) {}

  async list(actor: Actor, filter: { project?: number }, page: { limit: number; offset: number }) {
    if (filter.project !== undefined) await this.deps.access.requireReadable(actor, filter.project);
    const { total, items } = await this.deps.environments.list({ ...filter, ...this.deps.access.readFilter(actor) }, page);
    return { total, items: await Promise.all(items.map((e) => this.withLive(e))) };
  }

  async get(actor: Actor, id: number) {
    return this.withLive(await this.readable(actor, id));
  }

  async create(actor: Actor, input: EnvironmentInput) {
    const projectId = input.project ?? (await this.defaultProject());
    await this.deps.access.require(actor, projectId, 'manage_environments', { what: 'Project' });
    const fields = await this.fields(projectId, input);
    const created = await this.deps.audit.change(async (tx, record) => {
      const made = await this.deps.environments.in(tx).create(fields, actor.id);
      if (made) await record(entry(actor, 'environment.create', target(made), auditDiff(null, auditView(made)), made.project_id));
      return made;
    });
    if (!created) throw conflict(`The project already has an environment named "${input.name}"`, { name: ['An environment of this project has this name.'] });
    return this.withLive(created);
  }

  /** PUT: every field is replaced (absent optional fields take their defaults); the project stays. */
  async update(actor: Actor, id: number, input: EnvironmentInput) {
    const current = await this.readable(actor, id);
    await this.deps.access.require(actor, current.project_id, 'manage_environments', { what: 'Environment' });
    if (input.project !== undefined && input.project !== current.project_id)
      throw validationError({ project: ['An environment stays in its project; create one in the other project instead.'] });
    const fields = await this.fields(current.project_id, input);
    const saved = await this.deps.audit.change(async (tx, record) => {
      const after = await this.deps.environments.in(tx).update(id, fields);
      if (after && after !== 'conflict')
        await record(entry(actor, 'environment.update', target(after), auditDiff(auditView(current), auditView(after)), after.project_id));
      return after;
    });
    if (saved === 'conflict')
      throw conflict(`The project already has an environment named "${input.name}"`, { name: ['An environment of this project has this name.'] });
    if (!saved) throw notFound('Environment');
    return this.withLive(saved);
  }

  /** Runs waiting at it end `cancelled` ("environment production was deleted"); its history keeps the name. */
  async delete(actor: Actor, id: number): Promise<void> {
    const current = await this.readable(actor, id);
    await this.deps.access.require(actor, current.project_id, 'manage_environments', { what: 'Environment' });
    const at = nowIso();
    const cancelled: Array<{ id: number; pipeline_id: number | null }> = [];
    const deleted = await this.deps.audit.change(async (tx, record) => {
      for (const run of await this.deps.gates.in(tx).waiting(id)) {
        if (await this.cancelWaiting(tx, run.id, `environment ${current.name} was deleted`, at)) cancelled.push(run);
      }
      if (!(await this.deps.environments.in(tx).delete(id))) return false;
      await record(entry(actor, 'environment.delete', target(current), auditDiff(auditView(current), null), current.project_id));
      return true;
    });
    if (!deleted) throw notFound('Environment');
    for (const run of cancelled)
      this.deps.events.publish({ type: 'run_status', runId: run.id, pipelineId: run.pipeline_id, status: 'cancelled', progress: 100, currentStep: null, at });
  }

  async deployments(actor: Actor, id: number, page: { limit: number; offset: number }): Promise<{ total: number; items: Deployment[] }> {
    await this.readable(actor, id);
    return this.deps.environments.deployments(id, page);
  }

  private async cancelWaiting(tx: StoreTx, runId: number, reason: string, at: string): Promise<boolean> {
    const runs = this.deps.runs.in(tx);
    if (!(await runs.finish(runId, 'cancelled', at, reason, ['waiting']))) return false;
    await runs.settleSteps(runId, 'unfinished', 'cancelled', at);
    return true;
  }

  private async withLive(environment: Environment) {
    return { ...environment, live: await this.deps.environments.live(environment.id) };
  }

  private async readable(actor: Actor, id: number): Promise<Environment> {
    const environment = await this.deps.environments.findById(id);
    if (!environment) throw notFound('Environment');
    await this.deps.access.require(actor, environment.project_id, 'read', { what: 'Environment' });
    return environment;
  }

  private async defaultProject(): Promise<number> {
    const id = await this.deps.projects.defaultProjectId();
    if (id === null) throw validationError({ project: ['There is no default project; name one.'] });
    return id;
  }

  /** The fields to store, with defaults; approvers that are not users and bad globs are 400s naming the field. */
  private async fields(projectId: number, input: EnvironmentInput): Promise<EnvironmentFields> {
    const details: ErrorDetails = {};
    const users = [...new Set(input.approvers?.users ?? [])];
    for (const [i, name] of users.entries())
      if (!(await this.deps.users.findByUsername(name))) details[`approvers.users[${i}]`] = [`There is no user named "${name}".`];
    const branches = input.branches ?? [];
    for (const [i, glob] of branches.entries()) {
      const problem = branchNameProblem(glob.replace(/\*+/g, 'x'));
      if (problem) details[`branches[${i}]`] = [problem];
    }
    if (Object.keys(details).length > 0) throw validationError(details);
    return {
      project_id: projectId,
      name: input.name,
      description: input.description ?? '',
      required_approvals: input.required_approvals ?? 1,
      approvers: { users, roles: [...new Set(input.approvers?.roles ?? [])] },
      prevent_self_approval: input.prevent_self_approval ?? false,
      branches,
      wait_timer_seconds: input.wait_timer_seconds ?? 0,
      approval_timeout_seconds: input.approval_timeout_seconds ?? null,
      timeout_outcome: input.timeout_outcome ?? 'reject',
      concurrency: input.concurrency ?? null,
    };
  }
}
