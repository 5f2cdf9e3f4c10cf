import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { isoAfter, nowIso } from './time.js';
import { parseLabelKey } from '../domain/labels.js';

export interface WorkerInfo {
  id: string;
  hostname: string;
  pid: number;
  labels: string[];
  concurrency: number;
  active: number;
  started_at: string;
  heartbeat_at: string;
  /** Whether this worker's steps run isolated, and how (null: a worker that predates the sandbox). */
  sandbox: SandboxReport | null;
}

export interface SandboxReport {
  isolated: boolean;
  /** `bubblewrap`, `off` (the operator's choice) or `unavailable`. */
  mode: 'bubblewrap' | 'off' | 'unavailable';
  /** How limits are enforced, or why steps are not isolated. */
  detail: string;
}

/** The registry of workers: each upserts its row on a heartbeat; stale rows are workers gone. */
export class WorkersRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async heartbeat(w: Omit<WorkerInfo, 'heartbeat_at'>): Promise<void> {
    const row = { ...w, labels: w.labels.join(','), sandbox: w.sandbox ? JSON.stringify(w.sandbox) : '', heartbeat_at: nowIso() };
    await this.db
      .insertInto('workers')
      .values(row)
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet({ active: row.active, heartbeat_at: row.heartbeat_at, labels: row.labels, concurrency: row.concurrency, sandbox: row.sandbox }),
      )
      .execute();
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('workers').where('id', '=', id).execute();
  }

  /** Workers seen within `withinSeconds`; older rows are deleted (a worker that stopped for good). */
  async alive(withinSeconds: number): Promise<WorkerInfo[]> {
    const cutoff = isoAfter(-withinSeconds);
    await this.db.deleteFrom('workers').where('heartbeat_at', '<', isoAfter(-3600)).execute();
    const rows = await this.db.selectFrom('workers').selectAll().where('heartbeat_at', '>=', cutoff).orderBy('id').execute();
    return rows.map((r) => ({ ...r, labels: parseLabelKey(r.labels), sandbox: r.sandbox ? (JSON.parse(r.sandbox) as SandboxReport) : null }));
  }
}
