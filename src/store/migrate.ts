/** Runs the migrations in order, on SQLite or PostgreSQL; safe to call at every start. */
import type { Migration } from 'kysely';
import type { Db } from './db.js';
import { runMigrations } from './migration-runner.js';
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
import { sso } from './migrations/011-sso.js';
import { pipelineFile } from './migrations/012-pipeline-file.js';
import { forgeResults } from './migrations/013-forge-results.js';
import { historyRetention } from './migrations/014-history-retention.js';
import { projectScopedNames } from './migrations/015-project-scoped-names.js';
import { buildOutputs } from './migrations/016-build-outputs.js';
import { inventories } from './migrations/017-inventories.js';
import { delivery } from './migrations/018-delivery.js';
import { repositoryCredential } from './migrations/019-repository-credential.js';
import { inventoryChecks } from './migrations/020-inventory-checks.js';
import { notifications } from './migrations/021-notifications.js';
import { forkApprovals } from './migrations/022-fork-approvals.js';
import { deleteAndMemberIndexes } from './migrations/023-delete-and-member-indexes.js';
import { auditEventsRowid } from './migrations/024-audit-events-rowid.js';
import { memberFilterIndexes } from './migrations/025-member-filter-indexes.js';
import { auditEventsBatchedIndexes } from './migrations/026-audit-events-batched-indexes.js';

/** Every migration by name; names sort in the order they run. */
export function migrations(db: Db): Record<string, Migration> {
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
    '011-sso': sso(db.dialect),
    '012-pipeline-file': pipelineFile(),
    '013-forge-results': forgeResults(db.dialect),
    '014-history-retention': historyRetention(db.dialect),
    '015-project-scoped-names': projectScopedNames(),
    '016-build-outputs': buildOutputs(db.dialect),
    '017-inventories': inventories(db.dialect),
    '018-delivery': delivery(db.dialect),
    '019-repository-credential': repositoryCredential(),
    '020-inventory-checks': inventoryChecks(db.dialect),
    '021-notifications': notifications(),
    '022-fork-approvals': forkApprovals(db.dialect),
    '023-delete-and-member-indexes': deleteAndMemberIndexes(),
    '024-audit-events-rowid': auditEventsRowid(db.dialect),
    '025-member-filter-indexes': memberFilterIndexes(),
    '026-audit-events-batched-indexes': auditEventsBatchedIndexes(db.dialect),
  };
}

/** Each migration in a transaction of its own (migration-runner.ts); a failure throws a MigrationError naming it. */
export function migrateToLatest(db: Db): Promise<string[]> {
  return runMigrations(db, migrations(db));
}

/** Up to and including `name`: upgrade tests write a database as an older release left it. */
export function migrateTo(db: Db, name: string): Promise<string[]> {
  return runMigrations(db, migrations(db), name);
}
