/**
 * Upgrades: the database the release at migration 010 wrote (test/fixtures/upgrade-010, made by
 * that release's own server; see make-fixture.ts there) migrates to the latest schema with every
 * row intact, on SQLite and PostgreSQL (its rows copied into a PostgreSQL database at 010), and
 * the server then reads it: logins, pipelines, secrets and credentials under the fixture's key,
 * logs. A migration that fails is rolled back whole, and the server refuses to start, saying why.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely, type Migration } from 'kysely';
import { openDb, type Db } from '../../src/store/db.js';
import { migrateTo, migrateToLatest, migrations } from '../../src/store/migrate.js';
import { MigrationError, runMigrations } from '../../src/store/migration-runner.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { secretKeySource } from '../../src/services/secret-key.js';
import { PipelinesRepository } from '../../src/store/pipelines-repository.js';
import { CredentialsRepository } from '../../src/store/credentials-repository.js';
import { DbLogStore } from '../../src/logs/db-log-store.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/runtime/logger.js';
import { createContext } from '../../src/runtime/context.js';
import { startServers } from '../../src/runtime/servers.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { runCli } from '../support/server-process.js';
import * as v from '../fixtures/upgrade-010/fixture-values.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'upgrade-010', 'ansflow.db');
const AT = '010-tokens-audit';
/** Tables copied into PostgreSQL, parents before children. */
const TABLES = [
  'users',
  'projects',
  'project_members',
  'pipelines',
  'credentials',
  'pipeline_runs',
  'step_runs',
  'run_queue',
  'webhook_deliveries',
  'log_chunks',
  'workers',
  'jenkins_builds',
  'refresh_tokens',
  'personal_tokens',
  'audit_events',
];

type Rows = Record<string, unknown>[];
type Snapshot = Record<string, { columns: string[]; rows: Rows }>;

function fixtureCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-upgrade-'));
  copyFileSync(FIXTURE, join(dir, 'ansflow.db'));
  return dir;
}

async function columnsOf(k: Kysely<any>, dialect: Db['dialect'], table: string): Promise<string[]> {
  if (dialect === 'sqlite') return (await sql<{ name: string }>`select name from pragma_table_info(${table}) order by cid`.execute(k)).rows.map((r) => r.name);
  return (
    await sql<{
      column_name: string;
    }>`select column_name from information_schema.columns where table_schema = current_schema() and table_name = ${table} order by ordinal_position`.execute(k)
  ).rows.map((r) => r.column_name);
}

/** Every row of `tables`, only `columns` when given (a later schema has more), in a stable order. */
async function snapshot(db: Db, tables: string[], columns?: Snapshot): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const table of tables) {
    const cols = columns?.[table]?.columns ?? (await columnsOf(db.kysely, db.dialect, table));
    const order = sql.raw(cols.map((_, i) => String(i + 1)).join(', '));
    const list = sql.join(cols.map((c) => sql.ref(c)));
    const rows = (await sql<Record<string, unknown>>`select ${list} from ${sql.table(table)} order by ${order}`.execute(db.kysely)).rows;
    out[table] = { columns: cols, rows };
  }
  return out;
}

/**
 * The only values a later migration changes on purpose, applied to the fixture's rows:
 * 015 scopes pipeline and credential names to their project (name_key "<project id>:<name>").
 */
function withIntendedRewrites(before: Snapshot): Snapshot {
  const out: Snapshot = { ...before };
  for (const table of ['pipelines', 'credentials']) {
    const t = before[table]!;
    out[table] = { columns: t.columns, rows: t.rows.map((r) => ({ ...r, name_key: `${String(r.project_id)}:${String(r.name_key)}` })) };
  }
  return out;
}

async function applied(db: Db): Promise<string[]> {
  return (await sql<{ name: string }>`select name from ansflow_migrations order by name`.execute(db.kysely)).rows.map((r) => r.name);
}

/** The schema as text, to compare before and after a failed migration. */
async function schemaOf(db: Db): Promise<string> {
  if (db.dialect === 'sqlite')
    return JSON.stringify((await sql`select type, name, tbl_name, sql from sqlite_master order by type, name`.execute(db.kysely)).rows);
  const columns = await sql`select table_name, column_name, data_type, is_nullable, column_default from information_schema.columns
    where table_schema = current_schema() order by table_name, ordinal_position`.execute(db.kysely);
  const indexes = await sql`select indexname, indexdef from pg_indexes where schemaname = current_schema() order by indexname`.execute(db.kysely);
  return JSON.stringify([columns.rows, indexes.rows]);
}

const later = (db: Db) =>
  Object.keys(migrations(db))
    .sort()
    .filter((name) => name > AT);

/** The migrations the fixture has, and nothing after: the release it was made by. */
function upTo010(db: Db): Record<string, Migration> {
  return Object.fromEntries(Object.entries(migrations(db)).filter(([name]) => name <= AT));
}

/** Copies the fixture's rows into a PostgreSQL database migrated to 010, as if that release had written them there. */
async function fixtureOnPostgres(url: string, dir: string): Promise<Db> {
  const sqlite = openDb({ databaseUrl: null, dataDir: dir });
  const pg = openDb({ databaseUrl: url, dataDir: dir });
  try {
    await migrateTo(pg, AT);
    // Migrations seed rows (the default project); the fixture has its own.
    for (const table of [...TABLES].reverse()) await sql`delete from ${sql.table(table)}`.execute(pg.kysely);
    for (const table of TABLES) {
      const { rows } = (await snapshot(sqlite, [table]))[table]!;
      for (const row of rows)
        await sql`insert into ${sql.table(table)} (${sql.join(Object.keys(row).map((c) => sql.ref(c)))}) values (${sql.join(Object.values(row))})`.execute(
          pg.kysely,
        );
      if (!(await columnsOf(pg.kysely, 'postgres', table)).includes('id')) continue;
      const { seq } = (await sql<{ seq: string | null }>`select pg_get_serial_sequence(${table}, 'id') as seq`.execute(pg.kysely)).rows[0]!;
      if (seq) await sql`select setval(${seq}, (select coalesce(max(id), 0) + 1 from ${sql.table(table)}), false)`.execute(pg.kysely);
    }
  } finally {
    await sqlite.close();
  }
  return pg;
}

/** The secrets of the fixture open under its key through the latest repositories. */
async function assertSecretsOpen(db: Db, dir: string): Promise<void> {
  const box = new SecretBox(secretKeySource({ secretKey: v.FIXTURE_SECRET_KEY, secretKeyPrevious: [], dataDir: dir }));
  const pipelines = new PipelinesRepository(db.kysely, box);
  const row = await db.kysely.selectFrom('pipelines').select(['id', 'project_id']).where('name', '=', v.PIPELINE).executeTakeFirstOrThrow();
  const pipeline = await pipelines.findById(row.id);
  assert.equal(pipeline?.variables[v.SECRET_VARIABLE.name]?.value, v.SECRET_VARIABLE.value);
  assert.equal(pipeline?.variables[v.SECRET_VARIABLE.name]?.secret, true);
  assert.equal(pipeline?.variables[v.PLAIN_VARIABLE.name]?.value, v.PLAIN_VARIABLE.value);
  const stored = await db.kysely.selectFrom('pipelines').select('variables').where('id', '=', row.id).executeTakeFirstOrThrow();
  assert.ok(!stored.variables.includes(v.SECRET_VARIABLE.value), 'the secret stays sealed at rest');
  const [credential] = await new CredentialsRepository(db.kysely, box).open([v.CREDENTIAL.name], row.project_id);
  assert.deepEqual(credential?.secret, { kind: 'token', value: { token: v.CREDENTIAL.token } });
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`upgrade of the 010 fixture on ${backend}`, () => {
    let dir: string;
    let pgDb: TestDatabase | null = null;
    let db: Db | null = null;
    before(async () => {
      dir = fixtureCopy();
      if (backend === 'postgres') {
        pgDb = await createTestDatabase();
        if (pgDb) db = await fixtureOnPostgres(pgDb.url, dir);
      } else db = openDb({ databaseUrl: null, dataDir: dir });
    });
    after(async () => {
      await db?.close();
      await pgDb?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('every row of every table is there after migrating to the latest schema, and secrets open under the fixture key', async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable (said above)');
      assert.deepEqual(await applied(db), Object.keys(upTo010(db)).sort(), 'the fixture is at 010');
      const before010 = await snapshot(db, TABLES);
      for (const table of TABLES) assert.ok(before010[table]!.rows.length > 0, `the fixture has rows in ${table}`);
      assert.deepEqual(await migrateToLatest(db), later(db));
      assert.deepEqual(await applied(db), Object.keys(migrations(db)).sort());
      const after = await snapshot(db, TABLES, before010);
      const expected = withIntendedRewrites(before010);
      for (const table of TABLES) assert.deepEqual(after[table], expected[table], `rows of ${table} after the upgrade`);
      await assertSecretsOpen(db, dir);
      assert.deepEqual(await migrateToLatest(db), [], 'a second start migrates nothing');
    });

    test('a migration that fails is rolled back whole; the ones before it stay; the next start goes on from there', async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable (said above)');
      // A database at 010 of its own (the one above is upgraded by the test before).
      if (backend === 'sqlite') return failedMigrationRollsBack(openDb({ databaseUrl: null, dataDir: fixtureCopy() }));
      const second = await createTestDatabase();
      assert.ok(second);
      t.after(() => second.drop());
      return failedMigrationRollsBack(await fixtureOnPostgres(second.url, dir));
    });
  });
}

async function failedMigrationRollsBack(db: Db): Promise<void> {
  try {
    const schemaBefore = await schemaOf(db);
    const rowsBefore = await snapshot(db, TABLES);
    const works: Migration = {
      async up(k) {
        await k.schema
          .createTable('upgrade_marker')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .execute();
      },
    };
    const fails: Migration = {
      async up(k) {
        await k.schema.createTable('half_done').addColumn('id', 'integer').execute();
        await k.schema.alterTable('users').addColumn('nickname', 'text').execute();
        await sql`update users set email = 'overwritten@example.com'`.execute(k);
        await sql`delete from audit_events`.execute(k);
        throw new Error('deliberate failure after changing schema and rows');
      },
    };
    await assert.rejects(runMigrations(db, { ...upTo010(db), '990-works': works, '991-fails': fails }), (error: unknown) => {
      assert.ok(error instanceof MigrationError);
      assert.equal(error.migration, '991-fails');
      assert.match(error.message, /migration 991-fails failed and was rolled back.*deliberate failure after changing schema and rows/);
      return true;
    });
    assert.deepEqual(await applied(db), [...Object.keys(upTo010(db)).sort(), '990-works'], 'the migration before it stays applied');
    const marker = await sql`select count(*) as n from upgrade_marker`.execute(db.kysely);
    assert.equal(Number((marker.rows[0] as { n: unknown }).n), 0);
    await sql`drop table upgrade_marker`.execute(db.kysely);
    await sql`delete from ansflow_migrations where name = '990-works'`.execute(db.kysely);
    assert.equal(await schemaOf(db), schemaBefore, 'no table, column or index of the failed migration is left');
    assert.deepEqual(await snapshot(db, TABLES), rowsBefore, 'no row it changed is changed');
    // Fixed, the next start applies it.
    assert.deepEqual(await runMigrations(db, { ...upTo010(db), '991-fails': works }), ['991-fails']);
  } finally {
    await db.close();
  }
}

describe('the server on an upgraded database', () => {
  test('serves the fixture: logins, pipelines, runs, database logs, the queued run', async () => {
    const dir = fixtureCopy();
    const config = loadConfig({
      NODE_ENV: 'test',
      ANSFLOW_DATA_DIR: dir,
      ANSFLOW_SECRET_KEY: v.FIXTURE_SECRET_KEY,
      ANSFLOW_API_PORT: '0',
      ANSFLOW_GATEWAY_PORT: '0',
      ANSFLOW_METRICS_LISTEN: 'off',
    });
    const ctx = await createContext(config, createLogger('warn'));
    const servers = await startServers(ctx, 'api');
    try {
      const post = (path: string, body: unknown, token?: string) =>
        fetch(servers.apiUrl + path, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify(body),
        });
      const get = async (path: string, token: string) =>
        (await fetch(servers.apiUrl + path, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<any>;
      const login = await post('/api/auth/login/', { username: v.DEV.username, password: v.DEV.password });
      assert.equal(login.status, 200, 'a password hashed by the 010 release still logs in');
      const adminLogin = await post('/api/auth/login/', { username: 'admin', password: v.ADMIN_PASSWORD });
      const admin = ((await adminLogin.json()) as { access: string }).access;
      const pipelines = await get('/api/pipelines/', admin);
      assert.deepEqual(pipelines.results.map((p: { name: string }) => p.name).sort(), [v.PIPELINE, v.WEBHOOK_PIPELINE].sort());
      const pipeline = pipelines.results.find((p: { name: string }) => p.name === v.PIPELINE);
      const detail = await get(`/api/pipelines/${pipeline.id}/`, admin);
      assert.deepEqual(detail.variables[v.SECRET_VARIABLE.name], { value: '******', secret: true });
      const runs = await get(`/api/pipelines/${pipeline.id}/runs/`, admin);
      assert.equal(runs.count, 3);
      assert.deepEqual(runs.results.map((r: { number: number; status: string }) => [r.number, r.status]).sort(), [
        [1, 'success'],
        [2, 'success'],
        [3, 'queued'],
      ]);
      const queued = runs.results.find((r: { status: string }) => r.status === 'queued');
      assert.equal((await ctx.db.kysely.selectFrom('run_queue').select('run_id').execute()).map((r) => r.run_id).join(), String(queued.id));
      const first = runs.results.find((r: { number: number }) => r.number === 1);
      const log = await new DbLogStore(ctx.db.kysely).read({ runId: first.id, stepId: null, offset: 0 });
      assert.match(log.data.toString(), new RegExp(`${v.LOG_LINE} \\(database log\\)`));
      const projects = await get('/api/projects/', admin);
      assert.ok(projects.results.some((p: { name: string }) => p.name === v.PROJECT.name));
      const audit = await get('/api/audit-events/?page_size=100', admin);
      assert.ok(audit.results.some((e: { action: string }) => e.action === 'credential.create'));
    } finally {
      await servers.close();
      await ctx.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refuses to start when a migration fails, naming it and why, and leaves the database as it was', async () => {
    const dir = fixtureCopy();
    try {
      const db = openDb({ databaseUrl: null, dataDir: dir });
      assert.ok(later(db).length > 0, 'there is a migration after 010 to fail');
      // Whatever the first pending migration changes, recording it fails: the whole of it must roll back.
      await sql`create trigger refuse_upgrades before insert on ansflow_migrations begin select raise(abort, 'deliberately failing migration (test trigger)'); end`.execute(
        db.kysely,
      );
      const schemaBefore = await schemaOf(db);
      const rowsBefore = await snapshot(db, TABLES);
      await db.close();
      const r = await runCli(['serve'], {
        NODE_ENV: 'test',
        ANSFLOW_DATA_DIR: dir,
        ANSFLOW_SECRET_KEY: v.FIXTURE_SECRET_KEY,
        ANSFLOW_API_PORT: '0',
        ANSFLOW_GATEWAY_PORT: '0',
        ANSFLOW_METRICS_LISTEN: 'off',
        ANSFLOW_LOG_LEVEL: 'warn',
      });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.doesNotMatch(r.stdout, /AnsFlow is running/);
      const reopened = openDb({ databaseUrl: null, dataDir: dir });
      try {
        const first = later(reopened)[0]!;
        assert.match(
          r.stderr,
          new RegExp(`^ansflow serve: database migration ${first} failed and was rolled back.*deliberately failing migration \\(test trigger\\)`, 'm'),
        );
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'a reason, not a stack trace');
        assert.equal(await schemaOf(reopened), schemaBefore);
        assert.deepEqual(await snapshot(reopened, TABLES), rowsBefore);
      } finally {
        await reopened.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refuses a database a newer release migrated', async () => {
    const dir = fixtureCopy();
    try {
      const db = openDb({ databaseUrl: null, dataDir: dir });
      await sql`insert into ansflow_migrations (name, timestamp) values ('999-from-the-future', '2030-01-01T00:00:00.000Z')`.execute(db.kysely);
      await db.close();
      const r = await runCli(['migrate'], { NODE_ENV: 'test', ANSFLOW_DATA_DIR: dir, ANSFLOW_SECRET_KEY: v.FIXTURE_SECRET_KEY });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /ansflow migrate: the database was migrated by a newer release of AnsFlow \(it has migration 999-from-the-future/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
