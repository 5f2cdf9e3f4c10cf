/** What a status badge shows: the pipeline's name and opt-in, and the latest run on a branch. */
import { UNFINISHED_RUN_STATUSES } from '../domain/status.js';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { RunStatus } from '../domain/status.js';

export interface BadgeFacts {
  name: string;
  project_id: number;
  badge_public: boolean;
  /** The status of the newest finished run on the branch, else of the newest run; null when none. */
  status: RunStatus | null;
}

export class BadgeRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** `branch` null: any branch. Two indexed lookups, no secrets opened. */
  async facts(pipelineId: number, branch: string | null): Promise<BadgeFacts | null> {
    const pipeline = await this.db.selectFrom('pipelines').select(['name', 'project_id', 'badge_public']).where('id', '=', pipelineId).executeTakeFirst();
    if (!pipeline) return null;
    const runs = (final: boolean) => {
      let q = this.db.selectFrom('pipeline_runs').select('status').where('pipeline_id', '=', pipelineId);
      if (branch !== null) q = q.where('branch', '=', branch);
      if (final) q = q.where('status', 'not in', UNFINISHED_RUN_STATUSES);
      return q.orderBy('id', 'desc').limit(1).executeTakeFirst();
    };
    const latest = (await runs(true)) ?? (await runs(false));
    return {
      name: pipeline.name,
      project_id: pipeline.project_id,
      badge_public: pipeline.badge_public === 1,
      status: (latest?.status as RunStatus | undefined) ?? null,
    };
  }
}
