/**
 * The repositories against both databases: the same behaviour on SQLite and PostgreSQL
 * (migrations, unique names, paging and search, runs with their steps and queue job, secrets).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { UsersRepository } from '../../src/store/users-repository.js';
import { PipelinesRepository, type PipelineFields } from '../../src/store/pipelines-repository.js';
import { RunsRepository } from '../../src/store/runs-repository.js';
import { RunQueueRepository } from '../../src/store/run-queue-repository.js';
import { RefreshTokensRepository } from '../../src/store/refresh-tokens-repository.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const fields = (name: string, extra: Partial<PipelineFields> = {}): PipelineFields => ({
  name,
  description: `about ${name}`,
  status: 'active',
  repository_url: 'https://example.com/a/b.git',
  branch: 'main',
  trigger_events: ['push'],
  variables: { PLAIN: { value: 'p', secret: false }, SECRET: { value: 'very-secret', secret: true } },
  steps: [{ name: 'one', type: 'shell_command', config: { command: 'true' } }],
  ...extra,
});

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`repositories on ${backend}`, () => {
    let db: Db | null = null;
    let dir: string;
    let pgDb: TestDatabase | null = null;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ansflow-repo-'));
      if (backend === 'postgres') {
        pgDb = await createTestDatabase();
        if (!pgDb) return;
      }
      db = openDb({ databaseUrl: pgDb?.url ?? null, dataDir: dir });
      await migrateToLatest(db);
      assert.deepEqual(await migrateToLatest(db), [], 'migrating twice is a no-op');
    });
    after(async () => {
      await db?.close();
      await pgDb?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    const repos = () => {
      const secrets = new SecretBox('k'.repeat(40));
      const pipelines = new PipelinesRepository(db!.kysely, secrets);
      return {
        users: new UsersRepository(db!.kysely),
        tokens: new RefreshTokensRepository(db!.kysely),
        pipelines,
        runs: new RunsRepository(db!.kysely, pipelines),
        queue: new RunQueueRepository(db!.kysely),
      };
    };

    test('users: case-insensitive unique usernames, password change bumps the token version', async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable');
      const { users } = repos();
      const u = await users.create({ username: 'Alice', email: 'a@x', role: 'admin', password_hash: 'h' });
      assert.ok(u);
      assert.equal(await users.create({ username: 'alice', email: '', role: 'viewer', password_hash: 'h' }), null);
      assert.equal((await users.findByUsername('ALICE'))!.id, u.id);
      await users.setPassword(u.id, 'h2');
      assert.equal((await users.findById(u.id))!.token_version, 1);
    });

    test('refresh tokens: rotation is single-use, families revoke together', async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable');
      const { users, tokens } = repos();
      const u = (await users.create({ username: 'tok', email: '', role: 'viewer', password_hash: 'h' }))!;
      await tokens.insert({ jti: 'a', userId: u.id, familyId: 'f', expiresAt: new Date(Date.now() + 60000).toISOString() });
      await tokens.insert({ jti: 'b', userId: u.id, familyId: 'f', expiresAt: new Date(Date.now() + 60000).toISOString() });
      assert.equal(await tokens.markRotated('a'), true);
      assert.equal(await tokens.markRotated('a'), false);
      assert.equal((await tokens.state('a')).state, 'rotated');
      await tokens.revokeFamily('f');
      assert.equal((await tokens.state('b')).state, 'revoked');
    });

    test('pipelines: unique names, search, paging, secrets sealed at rest', async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable');
      const { users, pipelines } = repos();
      const owner = (await users.create({ username: 'owner', email: '', role: 'developer', password_hash: 'h' }))!;
      const p = (await pipelines.create(fields('Deploy Web'), owner.id))!;
      assert.equal(p.created_by!.username, 'owner');
      assert.equal(await pipelines.create(fields('deploy web'), owner.id), null);
      for (let i = 0; i < 5; i++) await pipelines.create(fields(`batch_${i}`, { status: i % 2 ? 'inactive' : 'active' }), owner.id);
      const page = await pipelines.list({ search: 'BATCH' }, { limit: 2, offset: 2 });
      assert.equal(page.total, 5);
      assert.deepEqual(
        page.items.map((x) => x.name),
        ['batch_2', 'batch_1'],
      );
      assert.equal((await pipelines.list({ search: '_' }, { limit: 10, offset: 0 })).total, 5, '_ is literal in search');
      assert.equal((await pipelines.list({ status: 'inactive' }, { limit: 10, offset: 0 })).total, 2);
      const raw = await db!.kysely.selectFrom('pipelines').select('variables').where('id', '=', p.id).executeTakeFirstOrThrow();
      assert.ok(!raw.variables.includes('very-secret'));
      assert.equal((await pipelines.findById(p.id))!.variables.SECRET!.value, 'very-secret');
      const renamed = await pipelines.update(p, fields('batch_0'));
      assert.equal(renamed, 'conflict');
    });

    test('pipelines: names are unique per project, not across projects (moving into a clash is a conflict)', async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable');
      const { users, pipelines } = repos();
      const owner = (await users.create({ username: 'scoped', email: '', role: 'developer', password_hash: 'h' }))!;
      const other = await db!.kysely
        .insertInto('projects')
        .values({ name: 'other-team', name_key: 'other-team', description: '', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' })
        .returning('id')
        .executeTakeFirstOrThrow();
      const here = (await pipelines.create(fields('Shared Name'), owner.id))!;
      const there = await pipelines.create(fields('shared name', { project_id: other.id }), owner.id);
      assert.ok(there, 'the same name in another project is allowed');
      assert.equal(there.project_id, other.id);
      assert.equal(await pipelines.create(fields('SHARED NAME', { project_id: other.id }), owner.id), null);
      assert.equal(await pipelines.update(here, fields('Shared Name', { project_id: other.id })), 'conflict', 'moving into a project that has the name');
      const renamedInPlace = await pipelines.update(here, fields('shared NAME'));
      assert.ok(renamedInPlace && renamedInPlace !== 'conflict', 'renaming in place keeps the project (fields without project_id)');
      assert.equal(renamedInPlace.project_id, here.project_id);
      assert.equal(await pipelines.update({ ...here, id: 9_999_999 }, fields('nobody')), null);
    });

    test('pipelines: what update returns (built, not read back) is what findById then reads', async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable');
      const { users, pipelines, runs } = repos();
      const owner = (await users.create({ username: 'returns', email: '', role: 'developer', password_hash: 'h' }))!;
      const created = (await pipelines.create(fields('returned as written'), owner.id))!;
      const run = (await runs.create({ pipelineId: created.id, trigger: { type: 'manual' }, branch: 'main', commit: null, variables: {} }))!;
      await db!.kysely.deleteFrom('run_queue').where('run_id', '=', run.id).execute(); // the queue's own test counts the jobs
      const current = (await pipelines.findById(created.id))!;
      assert.ok(current.last_run, 'a last run to carry over');
      const cases: PipelineFields[] = [
        fields('returned as written', { description: 'every optional field set' }),
        {
          ...fields('Returned As Written 2', {
            secrets_for_forks: true,
            auto_cancel: true,
            badge_public: true,
            forge_credential: 'forge',
            repository_credential: 'repo-key',
            config_path: '.ansflow.yml',
            inputs: [{ name: 'TARGET', type: 'string', required: true, default: 'staging' }],
            trigger_events: ['push', 'pull_request'],
            variables: { A: { value: '1', secret: false }, S2: { value: 'another-secret', secret: true } },
            steps: [
              { name: 'one', type: 'shell_command', config: { command: 'true' } },
              { name: 'two', type: 'shell_command', config: { command: 'false' }, timeout_seconds: 30, continue_on_error: true },
            ],
          }),
        },
        { name: 'minimal', description: '', status: 'inactive', repository_url: null, branch: 'dev', trigger_events: [], variables: {}, steps: [] },
      ];
      let before = current;
      for (const f of cases) {
        const result = await pipelines.update(before, f);
        assert.ok(result && result !== 'conflict');
        assert.deepEqual(result, await pipelines.findById(created.id), f.name);
        before = result;
      }

      // Steps written as read keep the array read (the audit diff compares them by identity).
      assert.ok(await pipelines.update((await pipelines.findById(created.id))!, cases[1]!));
      const read = (await pipelines.findById(created.id))!;
      const sameSteps = await pipelines.update(read, { ...cases[1]!, steps: JSON.parse(JSON.stringify(cases[1]!.steps)) as PipelineFields['steps'] });
      assert.ok(sameSteps && sameSteps !== 'conflict');
      assert.equal(sameSteps.steps, read.steps, 'unchanged steps: the array read');
      const reread = (await pipelines.findById(created.id))!;
      const newSteps = [{ name: 'three', type: 'shell_command', config: { command: 'true' } }] as PipelineFields['steps'];
      const changed = await pipelines.update(reread, { ...cases[1]!, steps: newSteps });
      assert.ok(changed && changed !== 'conflict');
      assert.equal(changed.steps, newSteps, 'changed steps: the ones written');
      assert.deepEqual(changed, await pipelines.findById(created.id));
    });

    test("pipelines: a member's list and count cover their projects only, with or without a project filter", async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable');
      const { users, pipelines } = repos();
      const member = (await users.create({ username: 'lister', email: '', role: 'developer', password_hash: 'h' }))!;
      await db!.kysely.deleteFrom('project_members').where('user_id', '=', member.id).execute();
      const newProject = async (name: string) =>
        (
          await db!.kysely
            .insertInto('projects')
            .values({ name, name_key: name, description: '', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' })
            .returning('id')
            .executeTakeFirstOrThrow()
        ).id;
      const [a, b, hidden] = [await newProject('list-a'), await newProject('list-b'), await newProject('list-hidden')];
      for (const project of [a, b])
        await db!.kysely
          .insertInto('project_members')
          .values({ project_id: project, user_id: member.id, role: 'viewer', created_at: '2026-01-01T00:00:00Z' })
          .execute();
      const names: Record<number, string[]> = { [a]: ['a1', 'a2', 'a3'], [b]: ['b1'], [hidden]: ['h1', 'h2'] };
      for (const [project, list] of Object.entries(names))
        for (const name of list) await pipelines.create(fields(`m-${name}`, { project_id: Number(project) }), member.id);
      const page = { limit: 2, offset: 0 };
      const mine = await pipelines.list({ memberId: member.id }, page);
      assert.equal(mine.total, 4, 'the counters of their two projects');
      assert.deepEqual(
        mine.items.map((p) => p.name),
        ['m-b1', 'm-a3'],
      );
      const inA = await pipelines.list({ memberId: member.id, project: a }, { limit: 10, offset: 0 });
      assert.deepEqual([inA.total, inA.items.map((p) => p.name)], [3, ['m-a3', 'm-a2', 'm-a1']]);
      assert.deepEqual(await pipelines.list({ memberId: member.id, project: hidden }, page), { total: 0, items: [] });
      assert.equal((await pipelines.list({ memberId: member.id, search: 'm-' }, page)).total, 4, 'a narrowed count filters the same way');
      const stranger = (await users.create({ username: 'no-projects', email: '', role: 'developer', password_hash: 'h' }))!;
      await db!.kysely.deleteFrom('project_members').where('user_id', '=', stranger.id).execute();
      assert.deepEqual(await pipelines.list({ memberId: stranger.id }, page), { total: 0, items: [] });
    });

    test('runs: run, steps and job written together; numbers per pipeline; finish is once', async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable');
      const { users, pipelines, runs, queue } = repos();
      const owner = (await users.create({ username: 'runner', email: '', role: 'developer', password_hash: 'h' }))!;
      const p = (await pipelines.create(
        fields('runnable', {
          steps: [
            { name: 'a', type: 'shell_command', config: { command: 'true' } },
            { name: 'b', type: 'shell_command', config: { command: 'true' } },
          ],
        }),
        owner.id,
      ))!;
      const r1 = (await runs.create({ pipelineId: p.id, trigger: { type: 'manual' }, branch: 'main', commit: null, variables: p.variables }))!;
      const r2 = (await runs.create({ pipelineId: p.id, trigger: { type: 'api' }, branch: 'dev', commit: 'abcdef1', variables: {} }))!;
      assert.deepEqual([r1.number, r2.number], [1, 2]);
      assert.equal(r1.steps.length, 2);
      assert.equal(r1.variables.SECRET!.value, 'very-secret');
      assert.deepEqual(
        (await queue.peek(10)).map((j) => j.runId),
        [r1.id, r2.id],
      );
      assert.equal(await queue.claim(r1.id, 'w1', 60), true);
      assert.equal(await queue.claim(r1.id, 'w2', 60), false, 'a job is claimed once');
      assert.equal(await queue.size(), 1);
      assert.equal((await pipelines.findById(p.id))!.last_run!.id, r2.id);
      await runs.markRunning(r1.id, new Date().toISOString());
      assert.equal(await runs.finish(r1.id, 'success', new Date().toISOString(), null), true);
      assert.equal(await runs.finish(r1.id, 'failed', new Date().toISOString(), null), false);
      assert.equal(await runs.status(r1.id), 'success');
      const listed = await runs.list({ pipelineId: p.id }, { limit: 10, offset: 0 });
      assert.equal(listed.total, 2);
      assert.equal(await runs.create({ pipelineId: 999999, trigger: { type: 'manual' }, branch: 'main', commit: null, variables: {} }), null);
    });
  });
}
