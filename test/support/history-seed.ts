/**
 * Straight inserts of finished runs (with their step rows) and webhook deliveries, for tests and
 * benchmarks of reads over a large history. Rows are written as the application writes them, in
 * batches inside transactions; migration 014's triggers keep the counters as they do for the
 * application's own inserts.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/schema.js';

const STATUSES = ['success', 'success', 'success', 'failed', 'cancelled'] as const;
const TRIGGERS = ['webhook', 'webhook', 'manual', 'api'] as const;
const BRANCHES = ['main', 'main', 'develop', 'feature/x'] as const;

export interface SeedRunsOptions {
  pipelineId: number;
  projectId: number;
  pipelineName: string;
  count: number;
  stepsPerRun?: number;
  /** The first run's number (runs are numbered on from it). */
  firstNumber?: number;
  /** When the first run was created; later ones follow a minute apart. */
  since?: Date;
  batch?: number;
}

/** The status, trigger and branch of the i-th seeded run (so a test knows what a filter should match). */
export const seededRun = (i: number) => ({
  status: STATUSES[i % STATUSES.length]!,
  trigger: TRIGGERS[i % TRIGGERS.length]!,
  branch: BRANCHES[i % BRANCHES.length]!,
});

export async function seedRuns(db: Kysely<Database>, o: SeedRunsOptions): Promise<void> {
  const batch = o.batch ?? 500;
  const steps = o.stepsPerRun ?? 2;
  const since = (o.since ?? new Date(Date.now() - o.count * 60_000)).getTime();
  const first = o.firstNumber ?? 1;
  for (let start = 0; start < o.count; start += batch) {
    const n = Math.min(batch, o.count - start);
    await db.transaction().execute(async (trx) => {
      const rows = Array.from({ length: n }, (_, k) => {
        const i = start + k;
        const { status, trigger, branch } = seededRun(i);
        const created = new Date(since + i * 60_000).toISOString();
        return {
          pipeline_id: o.pipelineId,
          project_id: o.projectId,
          pipeline_name: o.pipelineName,
          number: first + i,
          status,
          trigger_type: trigger,
          trigger_user_id: null,
          trigger: JSON.stringify({ type: trigger }),
          branch,
          commit_sha: null,
          variables: '{}',
          definition: JSON.stringify({ name: o.pipelineName, repository_url: null, branch: 'main', steps: [], variables: {} }),
          error_reason: null,
          cancel_requested_at: null,
          secrets_withheld: null,
          created_at: created,
          started_at: created,
          finished_at: created,
        };
      });
      const ids = await trx.insertInto('pipeline_runs').values(rows).returning('id').execute();
      if (steps > 0) {
        const stepRows = ids.flatMap(({ id }, k) =>
          Array.from({ length: steps }, (_, position) => ({
            run_id: id,
            position,
            name: `step-${position}`,
            type: 'shell_command',
            parallel_group: null,
            status: rows[k]!.status === 'failed' && position === steps - 1 ? 'failed' : 'success',
            started_at: rows[k]!.created_at,
            finished_at: rows[k]!.created_at,
            exit_code: 0,
            attempts: 1,
            log_size: 0,
            message: null,
          })),
        );
        // SQLite allows 32,766 bound values a statement; 13 columns a step row.
        for (let s = 0; s < stepRows.length; s += 2000)
          await trx
            .insertInto('step_runs')
            .values(stepRows.slice(s, s + 2000))
            .execute();
      }
      const last = ids[ids.length - 1]!.id;
      await trx
        .updateTable('pipelines')
        .set({ run_counter: first + start + n - 1, last_run_id: last })
        .where('id', '=', o.pipelineId)
        .execute();
    });
  }
}

export async function seedDeliveries(db: Kysely<Database>, o: { count: number; projectId: number; prefix: string; batch?: number }): Promise<void> {
  const batch = o.batch ?? 500;
  for (let start = 0; start < o.count; start += batch) {
    const n = Math.min(batch, o.count - start);
    const now = new Date().toISOString();
    await db
      .insertInto('webhook_deliveries')
      .values(
        Array.from({ length: n }, (_, k) => ({
          provider: (start + k) % 3 === 0 ? 'gitlab' : 'github',
          delivery_key: `${o.prefix}-${start + k}`,
          event: 'push',
          action: null,
          repository: 'https://example.test/acme/app.git',
          ref: 'refs/heads/main',
          commit_sha: null,
          verdict: (start + k) % 4 === 0 ? 'ignored' : 'triggered',
          reason: null,
          run_ids: '[]',
          headers: '{}',
          payload: '{}',
          received_at: now,
          completed_at: now,
          project_ids: `,${o.projectId},`,
        })),
      )
      .execute();
  }
}
