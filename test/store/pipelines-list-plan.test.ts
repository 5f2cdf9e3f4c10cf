/**
 * What the permission check costs a member's pipeline list, pinned down on SQLite (bench/permissions.ts
 * measures it): the same two statements an admin's list runs, a count that reads the projects' kept
 * counters instead of visiting pipelines, and a page that walks pipelines newest first and stops
 * after the page (no sort of every visible row). Nothing is cached: a membership change shows in the
 * next list.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { openDb } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import type { Database } from '../../src/store/schema.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { UsersRepository } from '../../src/store/users-repository.js';
import { PipelinesRepository, type PipelineFields } from '../../src/store/pipelines-repository.js';

const fields = (name: string, project_id: number): PipelineFields => ({
  name,
  description: '',
  status: 'active',
  repository_url: null,
  branch: 'main',
  trigger_events: ['push'],
  variables: {},
  steps: [{ name: 'one', type: 'shell_command', config: { command: 'true' } }],
  project_id,
});

describe('a member’s pipeline list on SQLite', () => {
  let dir: string;
  let connection: SQLite.Database;
  let kysely: Kysely<Database>;
  /** Every statement the repository ran, with its parameters, since the last reset. */
  let statements: { sql: string; parameters: readonly unknown[] }[] = [];
  let pipelines: PipelinesRepository;
  let memberId = 0;
  const projects: number[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ansflow-list-plan-'));
    const db = openDb({ databaseUrl: null, dataDir: dir });
    await migrateToLatest(db);
    await db.close();
    connection = new SQLite(join(dir, 'ansflow.db'));
    kysely = new Kysely<Database>({
      dialect: new SqliteDialect({ database: connection }),
      log: (event) => {
        if (event.level === 'query') statements.push({ sql: event.query.sql, parameters: event.query.parameters });
      },
    });
    pipelines = new PipelinesRepository(kysely, new SecretBox('k'.repeat(40)));
    const users = new UsersRepository(kysely);
    const member = (await users.create({ username: 'member', email: '', role: 'developer', password_hash: 'h' }))!;
    memberId = member.id;
    await kysely.deleteFrom('project_members').where('user_id', '=', memberId).execute();
    for (let p = 0; p < 4; p++) {
      const { id } = await kysely
        .insertInto('projects')
        .values({ name: `plan-${p}`, name_key: `plan-${p}`, description: '', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' })
        .returning('id')
        .executeTakeFirstOrThrow();
      projects.push(id);
      for (let i = 0; i < 5; i++) await pipelines.create(fields(`plan-${p}-${i}`, id), memberId);
    }
    // A member of the first three projects only.
    for (const project of projects.slice(0, 3))
      await kysely
        .insertInto('project_members')
        .values({ project_id: project, user_id: memberId, role: 'viewer', created_at: '2026-01-01T00:00:00Z' })
        .execute();
  });

  after(async () => {
    await kysely?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const plan = (s: { sql: string; parameters: readonly unknown[] }) =>
    (connection.prepare(`explain query plan ${s.sql}`).all(...(s.parameters as unknown[])) as { detail: string }[]).map((r) => r.detail);

  test('two statements, as for an admin: the count reads the counters, the page stops after the page', async () => {
    statements = [];
    const admin = await pipelines.list({}, { limit: 3, offset: 0 });
    const adminStatements = statements.length;
    statements = [];
    const mine = await pipelines.list({ memberId }, { limit: 3, offset: 0 });
    assert.equal(admin.total, 20);
    assert.equal(mine.total, 15, 'the counters of their three projects');
    assert.deepEqual(
      mine.items.map((p) => p.name),
      ['plan-2-4', 'plan-2-3', 'plan-2-2'],
    );
    assert.equal(statements.length, adminStatements, 'no statement more than an admin’s list');
    assert.equal(statements.length, 2);
    const [count, page] = statements as [(typeof statements)[0], (typeof statements)[0]];

    const countPlan = plan(count);
    assert.ok(
      countPlan.every((d) => !/\bpipelines\b/.test(d)),
      `the count does not visit pipelines: ${countPlan.join(' | ')}`,
    );
    assert.ok(
      countPlan.some((d) => /SEARCH m USING COVERING INDEX project_members_user/.test(d)),
      `the count starts from the member's own memberships: ${countPlan.join(' | ')}`,
    );

    const pagePlan = plan(page);
    assert.ok(
      pagePlan.every((d) => !/TEMP B-TREE/.test(d)),
      `the page does not sort every visible row: ${pagePlan.join(' | ')}`,
    );
    assert.ok(
      pagePlan.some((d) => /SEARCH m USING (COVERING )?INDEX \S+ \(project_id=\? AND user_id=\?\)/.test(d)),
      `each visited pipeline's membership is one primary-key probe: ${pagePlan.join(' | ')}`,
    );
  });

  test('a membership change shows in the next list (nothing cached)', async () => {
    const before = await pipelines.list({ memberId }, { limit: 100, offset: 0 });
    assert.equal(before.total, 15);
    await kysely.deleteFrom('project_members').where('project_id', '=', projects[2]!).where('user_id', '=', memberId).execute();
    const after = await pipelines.list({ memberId }, { limit: 100, offset: 0 });
    assert.equal(after.total, 10);
    assert.ok(after.items.every((p) => p.project_id !== projects[2]));
    await kysely
      .insertInto('project_members')
      .values({ project_id: projects[3]!, user_id: memberId, role: 'viewer', created_at: '2026-01-01T00:00:00Z' })
      .execute();
    const joined = await pipelines.list({ memberId }, { limit: 100, offset: 0 });
    assert.equal(joined.total, 15);
    assert.equal(joined.items.filter((p) => p.project_id === projects[3]).length, 5);
  });
});
