/**
 * The upgrade to projects (migration 009) on a database written as the release before it left
 * one (migrations up to 008, rows inserted as that code wrote them), on SQLite and PostgreSQL:
 * everything lands in the `default` project, every user is its member with the project role of
 * their global role, and what each user may do is what they could do before.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDb, type Db } from '../../src/store/db.js';
import { migrateTo, migrateToLatest } from '../../src/store/migrate.js';
import { ProjectsRepository } from '../../src/store/projects-repository.js';
import { ProjectAccess } from '../../src/services/projects/project-access.js';
import { decide, type ProjectAction } from '../../src/domain/permissions.js';
import type { Role } from '../../src/domain/roles.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const NOW = '2026-11-01T00:00:00.000Z';

/** What the release before projects allowed (its domain/roles.ts predicates), per action. */
function before009(role: Role, ownsIt: boolean, action: ProjectAction): boolean {
  switch (action) {
    case 'read':
      return true;
    case 'run':
    case 'run_override':
      return role !== 'viewer';
    case 'edit':
    case 'manage_credentials':
      return role === 'admin' || (role === 'developer' && ownsIt);
    default:
      return false;
  }
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`upgrade to projects on ${backend}`, () => {
    let db: Db | null = null;
    let dir: string;
    let pgDb: TestDatabase | null = null;
    const ids: Record<string, number> = {};

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ansflow-upgrade-'));
      if (backend === 'postgres') {
        pgDb = await createTestDatabase();
        if (!pgDb) return;
      }
      db = openDb({ databaseUrl: pgDb?.url ?? null, dataDir: dir });
      await migrateTo(db, '008-worker-sandbox');
      const k = db.kysely as any;
      for (const [username, role] of [
        ['root', 'admin'],
        ['dev', 'developer'],
        ['dev2', 'developer'],
        ['watcher', 'viewer'],
      ] as const) {
        const row = await k
          .insertInto('users')
          .values({
            username,
            username_key: username,
            email: `${username}@x`,
            first_name: '',
            last_name: '',
            password_hash: 'h',
            role,
            is_active: 1,
            token_version: 0,
            date_joined: NOW,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        ids[username] = row.id;
      }
      const pipeline = await k
        .insertInto('pipelines')
        .values({
          name: 'deploy',
          name_key: 'deploy',
          description: '',
          status: 'active',
          repository_url: null,
          branch: 'main',
          trigger_events: '["push"]',
          variables: '{}',
          steps: '[]',
          steps_count: 0,
          run_counter: 1,
          last_run_id: null,
          created_by: ids.dev,
          created_at: NOW,
          updated_at: NOW,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      ids.pipeline = pipeline.id;
      const credential = await k
        .insertInto('credentials')
        .values({
          name: 'key',
          name_key: 'key',
          kind: 'token',
          description: '',
          secret: 'sealed',
          fingerprint: null,
          created_by: ids.dev,
          updated_by: ids.dev,
          created_at: NOW,
          updated_at: NOW,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      ids.credential = credential.id;
      const run = await k
        .insertInto('pipeline_runs')
        .values({
          pipeline_id: ids.pipeline,
          pipeline_name: 'deploy',
          number: 1,
          status: 'success',
          trigger_type: 'manual',
          trigger_user_id: ids.dev,
          trigger: '{"type":"manual"}',
          branch: 'main',
          commit_sha: null,
          variables: '{}',
          definition: '{}',
          error_reason: null,
          cancel_requested_at: null,
          created_at: NOW,
          started_at: NOW,
          finished_at: NOW,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      ids.run = run.id;
      await k
        .insertInto('webhook_deliveries')
        .values({
          provider: 'github',
          delivery_key: 'd-1',
          event: 'push',
          action: null,
          repository: null,
          ref: null,
          commit_sha: null,
          verdict: 'ignored',
          reason: 'no pipeline',
          run_ids: '[]',
          headers: '{}',
          payload: '{}',
          received_at: NOW,
          completed_at: NOW,
        })
        .execute();
      assert.deepEqual(await migrateToLatest(db).then((done) => done.includes('009-projects')), true);
    });
    after(async () => {
      await db?.close();
      await pgDb?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('everything is in the default project and every user is its member with their role', async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable');
      const projects = new ProjectsRepository(db.kysely);
      const defaultId = await projects.defaultProjectId();
      assert.ok(defaultId);
      const k = db.kysely;
      assert.equal((await k.selectFrom('pipelines').select('project_id').where('id', '=', ids.pipeline!).executeTakeFirstOrThrow()).project_id, defaultId);
      assert.equal((await k.selectFrom('credentials').select('project_id').where('id', '=', ids.credential!).executeTakeFirstOrThrow()).project_id, defaultId);
      assert.equal((await k.selectFrom('pipeline_runs').select('project_id').where('id', '=', ids.run!).executeTakeFirstOrThrow()).project_id, defaultId);
      assert.equal((await k.selectFrom('webhook_deliveries').select('project_ids').executeTakeFirstOrThrow()).project_ids, `,${defaultId},`);
      const members = new Map((await projects.members(defaultId)).map((m) => [m.user.username, m.role]));
      assert.deepEqual(Object.fromEntries(members), { dev: 'developer', dev2: 'developer', root: 'owner', watcher: 'viewer' });
      assert.equal((await k.selectFrom('users').select('role').where('id', '=', ids.root!).executeTakeFirstOrThrow()).role, 'admin', 'admins stay admins');
    });

    test('nobody gains or loses access: each decision equals what the release before allowed', async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable');
      const projects = new ProjectsRepository(db.kysely);
      const access = new ProjectAccess(projects);
      const defaultId = (await projects.defaultProjectId())!;
      for (const [username, role] of [
        ['root', 'admin'],
        ['dev', 'developer'],
        ['dev2', 'developer'],
        ['watcher', 'viewer'],
      ] as const) {
        const actor = { id: ids[username]!, username, role };
        const membership = await access.membership(actor, defaultId);
        for (const action of ['read', 'run', 'run_override', 'edit', 'manage_credentials'] as const) {
          const now = decide({ actor, membership, action, createdBy: ids.dev! }) === 'allow';
          assert.equal(now, before009(role, username === 'dev', action), `${username} ${action}`);
        }
      }
    });

    test('a row written without a project (older code paths) lands in the default project', async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable');
      const defaultId = await new ProjectsRepository(db.kysely).defaultProjectId();
      await sql`insert into credentials (name, name_key, kind, description, secret, created_at, updated_at) values ('late', 'late', 'token', '', 's', ${NOW}, ${NOW})`.execute(
        db.kysely,
      );
      assert.equal(
        (await db.kysely.selectFrom('credentials').select('project_id').where('name_key', '=', 'late').executeTakeFirstOrThrow()).project_id,
        defaultId,
      );
    });
  });
}
