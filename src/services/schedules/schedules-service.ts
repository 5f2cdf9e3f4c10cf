/**
 * Schedule use cases: a pipeline's schedules are read as the pipeline is (`read`) and changed as
 * it is (`edit`: maintainers, or the developer who created the pipeline). Every answer carries the
 * next five fire times; every change is audited in its transaction. A new or changed schedule
 * starts counting from now: it never fires for times before it existed.
 */
import { notFound, validationError, type ErrorDetails } from '../../domain/errors.js';
import type { Actor } from '../../domain/permissions.js';
import { cronProblem, nextFireTimes, timeZoneProblem } from '../../domain/schedule.js';
import { branchNameProblem } from '../../domain/git-url.js';
import { variableNameProblem, MAX_VARIABLE_VALUE_LENGTH, MAX_VARIABLES } from '../../domain/variables.js';
import { auditDiff, type AuditTarget } from '../../domain/audit.js';
import type { Schedule, ScheduleFields, SchedulesRepository, ScheduleFire } from '../../store/schedules-repository.js';
import type { Pipeline, PipelinesRepository } from '../../store/pipelines-repository.js';
import type { ProjectAccess } from '../projects/project-access.js';
import { entry, type AuditLog } from '../audit/audit-log.js';

export interface ScheduleInput {
  cron: string;
  timezone?: string;
  branch?: string | null;
  variables?: Record<string, string>;
  enabled?: boolean;
  catch_up?: boolean;
  description?: string;
}

export type ScheduleView = Schedule & { next_fire_times: string[]; recent_fires: ScheduleFire[] };

const target = (s: Pick<Schedule, 'id' | 'cron'>, pipeline: Pick<Pipeline, 'name'>): AuditTarget => ({
  type: 'schedule',
  id: s.id,
  name: `${pipeline.name}: ${s.cron}`,
});
const auditView = (s: ScheduleFields) => ({
  cron: s.cron,
  timezone: s.timezone,
  branch: s.branch,
  variables: s.variables,
  enabled: s.enabled,
  catch_up: s.catch_up,
  description: s.description,
});

export class SchedulesService {
  constructor(
    private readonly deps: {
      schedules: SchedulesRepository;
      pipelines: Pick<PipelinesRepository, 'findById'>;
      access: ProjectAccess;
      audit: AuditLog;
      now?: () => Date;
    },
  ) {}

  async list(actor: Actor, pipelineId: number): Promise<ScheduleView[]> {
    await this.pipeline(actor, pipelineId, 'read');
    return Promise.all((await this.deps.schedules.ofPipeline(pipelineId)).map((s) => this.view(s)));
  }

  async create(actor: Actor, pipelineId: number, input: ScheduleInput): Promise<ScheduleView> {
    const pipeline = await this.pipeline(actor, pipelineId, 'edit');
    const fields = this.fields(input);
    const created = await this.deps.audit.change(async (tx, record) => {
      const made = await this.deps.schedules.in(tx).create(pipelineId, fields, actor.id);
      await record(entry(actor, 'schedule.create', target(made, pipeline), auditDiff(null, auditView(fields)), pipeline.project_id));
      return made;
    });
    return this.view(created);
  }

  async update(actor: Actor, pipelineId: number, id: number, input: ScheduleInput): Promise<ScheduleView> {
    const pipeline = await this.pipeline(actor, pipelineId, 'edit');
    const current = await this.deps.schedules.findById(id);
    if (!current || current.pipeline_id !== pipelineId) throw notFound('Schedule');
    const fields = this.fields(input);
    const saved = await this.deps.audit.change(async (tx, record) => {
      const after = await this.deps.schedules.in(tx).update(id, fields);
      if (after) await record(entry(actor, 'schedule.update', target(after, pipeline), auditDiff(auditView(current), auditView(fields)), pipeline.project_id));
      return after;
    });
    if (!saved) throw notFound('Schedule');
    return this.view(saved);
  }

  async delete(actor: Actor, pipelineId: number, id: number): Promise<void> {
    const pipeline = await this.pipeline(actor, pipelineId, 'edit');
    const current = await this.deps.schedules.findById(id);
    if (!current || current.pipeline_id !== pipelineId) throw notFound('Schedule');
    const deleted = await this.deps.audit.change(async (tx, record) => {
      if (!(await this.deps.schedules.in(tx).delete(id))) return false;
      await record(entry(actor, 'schedule.delete', target(current, pipeline), auditDiff(auditView(current), null), pipeline.project_id));
      return true;
    });
    if (!deleted) throw notFound('Schedule');
  }

  private async view(schedule: Schedule): Promise<ScheduleView> {
    const now = this.deps.now?.() ?? new Date();
    return {
      ...schedule,
      next_fire_times: schedule.enabled ? nextFireTimes(schedule.cron, schedule.timezone, now, 5).map((d) => d.toISOString()) : [],
      recent_fires: await this.deps.schedules.fires(schedule.id, 10),
    };
  }

  private async pipeline(actor: Actor, id: number, action: 'read' | 'edit'): Promise<Pipeline> {
    const pipeline = await this.deps.pipelines.findById(id);
    if (!pipeline) throw notFound('Pipeline');
    await this.deps.access.require(actor, pipeline.project_id, 'read', { what: 'Pipeline' });
    if (action === 'edit')
      await this.deps.access.require(actor, pipeline.project_id, 'edit', {
        what: 'Pipeline',
        createdBy: pipeline.created_by?.id ?? null,
        denied: "Your role in this project does not allow changing this pipeline's schedules",
      });
    return pipeline;
  }

  /** The fields to store, every problem keyed by its field; the schedule counts from now. */
  private fields(input: ScheduleInput): ScheduleFields {
    const details: ErrorDetails = {};
    const timezone = input.timezone ?? 'UTC';
    const zone = timeZoneProblem(timezone);
    if (zone) details.timezone = [zone];
    else {
      const cron = cronProblem(input.cron, timezone);
      if (cron) details.cron = [cron];
    }
    const branch = input.branch ?? null;
    if (branch !== null) {
      const problem = branchNameProblem(branch);
      if (problem) details.branch = [problem];
    }
    const variables = input.variables ?? {};
    if (Object.keys(variables).length > MAX_VARIABLES) details.variables = [`At most ${MAX_VARIABLES} variables.`];
    for (const [name, value] of Object.entries(variables)) {
      const problem = variableNameProblem(name);
      if (problem) details[`variables.${name}`] = [problem];
      else if (typeof value !== 'string' || value.length > MAX_VARIABLE_VALUE_LENGTH)
        details[`variables.${name}`] = [
          `Text of at most ${MAX_VARIABLE_VALUE_LENGTH} characters (schedules hold no secrets: use the pipeline's secret variables).`,
        ];
    }
    if (Object.keys(details).length > 0) throw validationError(details);
    const now = this.deps.now?.() ?? new Date();
    const enabled = input.enabled ?? true;
    return {
      description: input.description ?? '',
      cron: input.cron.trim(),
      timezone,
      branch,
      variables,
      enabled,
      catch_up: input.catch_up ?? false,
      checked_until: now.toISOString(),
      next_fire_at: nextFireTimes(input.cron.trim(), timezone, now, 1)[0]?.toISOString() ?? null,
    };
  }
}
