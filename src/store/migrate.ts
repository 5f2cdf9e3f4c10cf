/** Runs the migrations in order, on SQLite or PostgreSQL; safe to call at every start. */
import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './db.js';
import { initial } from './migrations/001-initial.js';
import { gateway } from './migrations/002-gateway.js';
import { queueLabels } from './migrations/003-queue-labels.js';
import { logChunks } from './migrations/004-log-chunks.js';
import { workers } from './migrations/005-workers.js';
import { credentials } from './migrations/006-credentials.js';
import { forkSecrets } from './migrations/007-fork-secrets.js';
import { workerSandbox } from './migrations/008-worker-sandbox.js';
import { projects } from './migrations/009-projects.js';
import { tokensAudit } from './migrations/010-tokens-audit.js';

function provider(db: Db): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return {
        '001-initial': initial(db.dialect),
        '002-gateway': gateway(db.dialect),
        '003-queue-labels': queueLabels(),
        '004-log-chunks': logChunks(db.dialect),
        '005-workers': workers(),
        '006-credentials': credentials(db.dialect),
        '007-fork-secrets': forkSecrets(),
        '008-worker-sandbox': workerSandbox(),
        '009-projects': projects(db.dialect),
        '010-tokens-audit': tokensAudit(db.dialect),
      };
    },
  };
}

export function migrateToLatest(db: Db): Promise<string[]> {
  return migrate(db, (m) => m.migrateToLatest());
}

/** Up to and including `name`: upgrade tests write a database as an older release left it. */
export function migrateTo(db: Db, name: string): Promise<string[]> {
  return migrate(db, (m) => m.migrateTo(name));
}

async function migrate(db: Db, how: (migrator: Migrator) => ReturnType<Migrator['migrateToLatest']>): Promise<string[]> {
  const migrator = new Migrator({
    db: db.kysely,
    provider: provider(db),
    migrationTableName: 'ansflow_migrations',
    migrationLockTableName: 'ansflow_migrations_lock',
  });
  const { error, results } = await how(migrator);
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
