/**
 * Every value sealed at rest, for a key rotation: credentials' secrets, notification channels'
 * secrets and the secret variables of pipelines and of runs (runs keep the variables they were triggered with). Rows are read in
 * batches by id and each is re-sealed by one UPDATE that applies only if the row still holds what
 * was read (compare and set), so nothing is locked for longer than that statement, readers never
 * wait, and a row changed meanwhile is read again rather than overwritten.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { SecretBox } from './secret-box.js';

export interface ResealCounts {
  credentials: number;
  notification_channels: number;
  pipelines: number;
  runs: number;
}

interface StoredVariable {
  value: string;
  secret: boolean;
}

/** A row changed under us this many times in a row is left for the next pass. */
const MAX_ATTEMPTS = 5;

export class SealedValues {
  constructor(private readonly db: Kysely<Database>) {}

  /** Re-seals every value not sealed under the box's current key; returns how many rows changed. */
  async resealAll(box: SecretBox, options: { batchSize: number }): Promise<ResealCounts> {
    return {
      credentials: await this.resealSecrets('credentials', box, options.batchSize),
      notification_channels: await this.resealSecrets('notification_channels', box, options.batchSize),
      pipelines: await this.resealVariables('pipelines', box, options.batchSize),
      runs: await this.resealVariables('pipeline_runs', box, options.batchSize),
    };
  }

  /** A table whose `secret` column is one sealed value (null: none). */
  private async resealSecrets(table: 'credentials' | 'notification_channels', box: SecretBox, batchSize: number): Promise<number> {
    let changed = 0;
    let after = 0;
    for (;;) {
      const rows = await this.db.selectFrom(table).select(['id', 'secret']).where('id', '>', after).orderBy('id').limit(batchSize).execute();
      if (rows.length === 0) return changed;
      for (const row of rows) {
        let current: string | null | undefined = row.secret;
        for (let attempt = 0; current !== undefined && current !== null && !box.isCurrent(current) && attempt < MAX_ATTEMPTS; attempt++) {
          const result = await this.db
            .updateTable(table)
            .set({ secret: box.reseal(current) })
            .where('id', '=', row.id)
            .where('secret', '=', current)
            .executeTakeFirst();
          if (Number(result.numUpdatedRows) === 1) {
            changed++;
            break;
          }
          current = (await this.db.selectFrom(table).select('secret').where('id', '=', row.id).executeTakeFirst())?.secret;
        }
      }
      after = rows[rows.length - 1]!.id;
    }
  }

  private async resealVariables(table: 'pipelines' | 'pipeline_runs', box: SecretBox, batchSize: number): Promise<number> {
    let changed = 0;
    let after = 0;
    for (;;) {
      const rows = await this.db
        .selectFrom(table)
        .select(['id', 'variables'])
        .where('id', '>', after)
        .where('variables', 'like', '%"secret":true%')
        .orderBy('id')
        .limit(batchSize)
        .execute();
      if (rows.length === 0) return changed;
      for (const row of rows) {
        let current: string | undefined = row.variables;
        for (let attempt = 0; current !== undefined && attempt < MAX_ATTEMPTS; attempt++) {
          const next = resealedVariables(current, box);
          if (next === null) break;
          const result = await this.db.updateTable(table).set({ variables: next }).where('id', '=', row.id).where('variables', '=', current).executeTakeFirst();
          if (Number(result.numUpdatedRows) === 1) {
            changed++;
            break;
          }
          current = (await this.db.selectFrom(table).select('variables').where('id', '=', row.id).executeTakeFirst())?.variables;
        }
      }
      after = rows[rows.length - 1]!.id;
    }
  }
}

/** The variables JSON with every secret value under the current key, or null when nothing changes. */
function resealedVariables(text: string, box: SecretBox): string | null {
  const stored = JSON.parse(text) as Record<string, StoredVariable>;
  let changed = false;
  for (const variable of Object.values(stored)) {
    if (variable.secret && !box.isCurrent(variable.value)) {
      variable.value = box.reseal(variable.value);
      changed = true;
    }
  }
  return changed ? JSON.stringify(stored) : null;
}
