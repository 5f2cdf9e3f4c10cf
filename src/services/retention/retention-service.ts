/**
 * The retention use cases the API calls: a pipeline's own policy (read: who reads the pipeline;
 * change: who may edit it), and pinning a run so retention keeps it (who may run the pipeline's
 * project's pipelines). Every change writes its audit event in the same transaction.
 */
import { notFound, validationError } from '../../domain/errors.js';
import type { Actor } from '../../domain/permissions.js';
import { auditDiff } from '../../domain/audit.js';
import { effectiveRetention, MAX_KEEP_DAYS, MAX_KEEP_RUNS, type RetentionPolicy } from '../../domain/retention.js';
import type { PipelinesRepository } from '../../store/pipelines-repository.js';
import type { RetentionRepository, SweepRecord } from '../../store/retention-repository.js';
import type { Run, RunsRepository } from '../../store/runs-repository.js';
import type { AuditLog } from '../audit/audit-log.js';
import { entry } from '../audit/audit-log.js';
import { pipelineTarget } from '../audit/audit-views.js';
import type { ProjectAccess } from '../projects/project-access.js';
import type { DiskUsage, DiskUsageMeter } from './disk-usage.js';

export interface RetentionView {
  /** The pipeline's own setting (null fields: the default applies). */
  own: RetentionPolicy;
  default: RetentionPolicy;
  /** What the sweeper applies. */
  effective: RetentionPolicy;
}

export interface StorageStatus {
  disk: DiskUsage | null;
  retention: { default: RetentionPolicy; sweeper: SweepRecord | null };
}

export interface RetentionDeps {
  retention: RetentionRepository;
  pipelines: PipelinesRepository;
  runs: RunsRepository;
  access: ProjectAccess;
  audit: AuditLog;
  defaults: RetentionPolicy;
  meter: DiskUsageMeter;
}

export class RetentionService {
  constructor(private readonly deps: RetentionDeps) {}

  async policy(actor: Actor, pipelineId: number): Promise<RetentionView> {
    const pipeline = await this.deps.pipelines.findById(pipelineId);
    if (!pipeline) throw notFound('Pipeline');
    await this.deps.access.require(actor, pipeline.project_id, 'read', { what: 'Pipeline' });
    return this.view((await this.deps.retention.policyOf(pipelineId))!);
  }

  async setPolicy(actor: Actor, pipelineId: number, wanted: RetentionPolicy): Promise<RetentionView> {
    const details: Record<string, string[]> = {};
    if (wanted.keep_runs !== null && (!Number.isInteger(wanted.keep_runs) || wanted.keep_runs < 1 || wanted.keep_runs > MAX_KEEP_RUNS))
      details.keep_runs = [`Must be a whole number from 1 to ${MAX_KEEP_RUNS}, or null for the default.`];
    if (wanted.keep_days !== null && (!Number.isInteger(wanted.keep_days) || wanted.keep_days < 1 || wanted.keep_days > MAX_KEEP_DAYS))
      details.keep_days = [`Must be a whole number from 1 to ${MAX_KEEP_DAYS}, or null for the default.`];
    if (Object.keys(details).length > 0) throw validationError(details);
    const pipeline = await this.deps.pipelines.findById(pipelineId);
    if (!pipeline) throw notFound('Pipeline');
    await this.deps.access.require(actor, pipeline.project_id, 'edit', {
      what: 'Pipeline',
      createdBy: pipeline.created_by?.id ?? null,
      denied: 'Your role in this project does not allow changing this pipeline (developers change the pipelines they created)',
    });
    const saved = await this.deps.audit.change(async (tx, record) => {
      const retention = this.deps.retention.in(tx);
      const before = await retention.policyOf(pipelineId);
      if (!before || !(await retention.setPolicy(pipelineId, wanted))) return null;
      const diff = auditDiff({ ...before }, { ...wanted });
      if (Object.keys(diff).length > 0) await record(entry(actor, 'pipeline.retention', pipelineTarget(pipeline), diff, pipeline.project_id));
      return wanted;
    });
    if (!saved) throw notFound('Pipeline');
    return this.view(saved);
  }

  /** Pins (or unpins) a run: retention never removes a pinned run. */
  async pin(actor: Actor, runId: number, pinned: boolean): Promise<Run> {
    const run = await this.deps.runs.findById(runId);
    if (!run) throw notFound('Run');
    await this.deps.access.require(actor, run.project_id, 'run', {
      what: 'Run',
      denied: 'Your role in this project does not allow pinning runs',
    });
    const done = await this.deps.audit.change(async (tx, record) => {
      if (!(await this.deps.retention.in(tx).pin(runId, pinned ? actor.id : null))) return false;
      const target = { type: 'run', id: run.id, name: `${run.pipeline.name} #${run.number}` };
      await record(entry(actor, pinned ? 'run.pin' : 'run.unpin', target, auditDiff({ pinned: run.pinned_at !== null }, { pinned }), run.project_id));
      return true;
    });
    if (!done) throw notFound('Run');
    return (await this.deps.runs.findById(runId)) ?? run;
  }

  /** For the system status: disk use (measured in the background) and what the sweeper last did. */
  async storage(): Promise<StorageStatus> {
    return { disk: this.deps.meter.current(), retention: { default: this.deps.defaults, sweeper: await this.deps.retention.record() } };
  }

  private view(own: RetentionPolicy): RetentionView {
    return { own, default: this.deps.defaults, effective: effectiveRetention(own, this.deps.defaults) };
  }
}
