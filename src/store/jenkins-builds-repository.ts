/** Jenkins builds triggered through the integration API, and what following them has learnt. */
import type { Kysely } from 'kysely';
import type { Database, JenkinsBuildRow } from './schema.js';
import { nowIso } from './time.js';

/** queued → running → finished, or error when following the build failed. */
export const JENKINS_BUILD_STATUSES = ['queued', 'running', 'finished', 'error'] as const;
export type JenkinsBuildStatus = (typeof JENKINS_BUILD_STATUSES)[number];

export interface JenkinsBuild {
  id: number;
  job_name: string;
  parameters: Record<string, string>;
  status: JenkinsBuildStatus;
  queue_id: number | null;
  build_number: number | null;
  build_url: string | null;
  result: string | null;
  console: string;
  console_truncated: boolean;
  error: string | null;
  triggered_by: number | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export type JenkinsBuildPatch = Partial<
  Pick<JenkinsBuild, 'status' | 'build_number' | 'build_url' | 'result' | 'console' | 'console_truncated' | 'error' | 'finished_at'>
>;

export class JenkinsBuildsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: { jobName: string; parameters: Record<string, string>; queueId: number; triggeredBy: number }): Promise<JenkinsBuild> {
    const now = nowIso();
    const row = await this.db
      .insertInto('jenkins_builds')
      .values({
        job_name: input.jobName,
        parameters: JSON.stringify(input.parameters),
        status: 'queued',
        queue_id: input.queueId,
        build_number: null,
        build_url: null,
        result: null,
        console: '',
        console_truncated: 0,
        error: null,
        triggered_by: input.triggeredBy,
        created_at: now,
        updated_at: now,
        finished_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toBuild(row);
  }

  async findById(id: number): Promise<JenkinsBuild | null> {
    const row = await this.db.selectFrom('jenkins_builds').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toBuild(row) : null;
  }

  async update(id: number, patch: JenkinsBuildPatch): Promise<void> {
    const { console_truncated, ...rest } = patch;
    await this.db
      .updateTable('jenkins_builds')
      .set({ ...rest, ...(console_truncated !== undefined ? { console_truncated: console_truncated ? 1 : 0 } : {}), updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
  }
}

function toBuild(row: JenkinsBuildRow): JenkinsBuild {
  return {
    id: row.id,
    job_name: row.job_name,
    parameters: JSON.parse(row.parameters) as Record<string, string>,
    status: row.status as JenkinsBuildStatus,
    queue_id: row.queue_id,
    build_number: row.build_number,
    build_url: row.build_url,
    result: row.result,
    console: row.console,
    console_truncated: row.console_truncated === 1,
    error: row.error,
    triggered_by: row.triggered_by,
    created_at: row.created_at,
    updated_at: row.updated_at,
    finished_at: row.finished_at,
  };
}
