/**
 * The credentials repository on both databases: sealed at rest, unique names, metadata-only reads,
 * updates that keep, merge or replace the secret, `open` for the worker, and which pipelines use one.
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
import { PipelinesRepository } from '../../src/store/pipelines-repository.js';
import { usageKey, CredentialsRepository, type PreparedSecret } from '../../src/store/credentials-repository.js';
import type { CredentialKind, CredentialSecret } from '../../src/domain/credentials.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
/** Credentials created without a project are in the `default` project, the first one (migration 009). */
const DEFAULT_PROJECT_ID = 1;

/** Stands in for the service's validation: takes the merged secret as it is. */
const asIs = async (kind: CredentialKind, secret: Record<string, unknown>): Promise<PreparedSecret> => ({
  secret: { kind, value: secret } as CredentialSecret,
  fingerprint: null,
});

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`credentials repository on ${backend}`, () => {
    let db: Db | null = null;
    let dir: string;
    let pgDb: TestDatabase | null = null;
    let credentials: CredentialsRepository;
    let pipelines: PipelinesRepository;
    let users: UsersRepository;
    let ownerId = 0;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ansflow-cred-repo-'));
      if (backend === 'postgres') {
        pgDb = await createTestDatabase();
        if (!pgDb) return;
      }
      db = openDb({ databaseUrl: pgDb?.url ?? null, dataDir: dir });
      await migrateToLatest(db);
      const box = new SecretBox('k'.repeat(40));
      credentials = new CredentialsRepository(db.kysely, box);
      pipelines = new PipelinesRepository(db.kysely, box);
      users = new UsersRepository(db.kysely);
      ownerId = (await users.create({ username: 'keeper', email: '', role: 'developer', password_hash: 'h' }))!.id;
    });
    after(async () => {
      await db?.close();
      await pgDb?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('create seals the secret, answers metadata only, and refuses a duplicate name in any case', async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable');
      const created = await credentials.create(
        { name: 'Deploy-Token', description: 'for deploys', secret: { kind: 'token', value: { token: 'tok-super-secret-1' } }, fingerprint: null },
        ownerId,
      );
      assert.ok(created);
      assert.deepEqual(Object.keys(created).sort(), [
        'created_at',
        'created_by',
        'description',
        'fingerprint',
        'id',
        'kind',
        'name',
        'project_id',
        'updated_at',
        'updated_by',
      ]);
      assert.deepEqual(created.created_by, { id: ownerId, username: 'keeper' });
      assert.equal(created.kind, 'token');
      assert.ok(!JSON.stringify(created).includes('tok-super-secret-1'));
      const raw = await db.kysely.selectFrom('credentials').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
      assert.ok(!raw.secret.includes('tok-super-secret-1'), 'sealed at rest');
      assert.equal(raw.name_key, `${DEFAULT_PROJECT_ID}:deploy-token`, 'the key is scoped to the project');
      assert.equal(
        await credentials.create({ name: 'deploy-TOKEN', description: '', secret: { kind: 'token', value: { token: 'x' } }, fingerprint: null }, ownerId),
        null,
      );
      assert.deepEqual([...(await credentials.existingNames(['deploy-token', 'Deploy-Token', 'nope'], DEFAULT_PROJECT_ID))], ['deploy-token']);
    });

    test('names are unique per project: another project may use the same name, and each opens its own', async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable');
      const other = await db.kysely
        .insertInto('projects')
        .values({ name: 'elsewhere', name_key: 'elsewhere', description: '', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' })
        .returning('id')
        .executeTakeFirstOrThrow();
      const theirs = await credentials.create(
        { name: 'DEPLOY-TOKEN', description: '', secret: { kind: 'token', value: { token: 'their-token' } }, fingerprint: null, project_id: other.id },
        ownerId,
      );
      assert.ok(theirs, 'the same name in another project is allowed');
      assert.deepEqual(await credentials.open(['deploy-token'], other.id), [
        { name: 'deploy-token', secret: { kind: 'token', value: { token: 'their-token' } } },
      ]);
      assert.deepEqual([...(await credentials.existingNames(['deploy-token'], other.id))], ['deploy-token']);
      assert.equal(
        await credentials.update(theirs.id, { name: 'deploy-token', description: '', kind: 'token', project_id: DEFAULT_PROJECT_ID, prepare: asIs }, ownerId),
        'conflict',
        'moving it into a project that has the name',
      );
      await credentials.delete(theirs.id);
    });

    test('open returns the secrets asked for, by the names asked, and nothing for unknown names', async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable');
      await credentials.create(
        {
          name: 'vault',
          description: '',
          secret: { kind: 'ansible_vault_password', value: { password: 'vault-pass-77', vault_id: 'prod' } },
          fingerprint: null,
        },
        ownerId,
      );
      const opened = await credentials.open(['VAULT', 'deploy-token', 'missing'], DEFAULT_PROJECT_ID);
      assert.deepEqual(opened, [
        { name: 'VAULT', secret: { kind: 'ansible_vault_password', value: { password: 'vault-pass-77', vault_id: 'prod' } } },
        { name: 'deploy-token', secret: { kind: 'token', value: { token: 'tok-super-secret-1' } } },
      ]);
      assert.deepEqual(await credentials.open([], DEFAULT_PROJECT_ID), []);
    });

    test('update: no secret keeps it, same kind merges (null removes), another kind replaces', async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable');
      const other = (await users.create({ username: 'editor', email: '', role: 'admin', password_hash: 'h' }))!;
      const c = (await credentials.create(
        { name: 'git-login', description: '', secret: { kind: 'username_password', value: { username: 'bot', password: 'pw-one-1' } }, fingerprint: null },
        ownerId,
      ))!;
      const seen: Array<Record<string, unknown>> = [];
      const spy = async (kind: CredentialKind, secret: Record<string, unknown>) => {
        seen.push(secret);
        return asIs(kind, secret);
      };
      const renamed = await credentials.update(c.id, { name: 'git-login-2', description: 'd', kind: 'username_password', prepare: spy }, other.id);
      assert.ok(renamed && renamed !== 'conflict');
      assert.equal(renamed.name, 'git-login-2');
      assert.deepEqual(renamed.updated_by, { id: other.id, username: 'editor' });
      assert.deepEqual(renamed.created_by, { id: ownerId, username: 'keeper' });
      assert.equal(seen.length, 0, 'the stored secret is not even opened');
      assert.deepEqual((await credentials.open(['git-login-2'], DEFAULT_PROJECT_ID))[0]!.secret.value, { username: 'bot', password: 'pw-one-1' });

      await credentials.update(
        c.id,
        { name: 'git-login-2', description: 'd', kind: 'username_password', secret: { password: 'pw-two-2' }, prepare: spy },
        other.id,
      );
      assert.deepEqual(seen.at(-1), { username: 'bot', password: 'pw-two-2' }, 'merged with the stored fields');
      assert.deepEqual((await credentials.open(['git-login-2'], DEFAULT_PROJECT_ID))[0]!.secret.value, { username: 'bot', password: 'pw-two-2' });

      await credentials.update(c.id, { name: 'git-login-2', description: 'd', kind: 'token', secret: { token: 'tok-new' }, prepare: spy }, other.id);
      assert.deepEqual(seen.at(-1), { token: 'tok-new' }, 'a new kind starts from nothing');
      const t2 = (await credentials.open(['git-login-2'], DEFAULT_PROJECT_ID))[0]!.secret;
      assert.deepEqual(t2, { kind: 'token', value: { token: 'tok-new' } });

      await credentials.update(c.id, { name: 'git-login-2', description: 'd', kind: 'token', secret: { username: 'u' }, prepare: spy }, other.id);
      await credentials.update(c.id, { name: 'git-login-2', description: 'd', kind: 'token', secret: { username: null }, prepare: spy }, other.id);
      assert.deepEqual(seen.at(-1), { token: 'tok-new' }, 'null removed the optional field');

      const refused = credentials.update(
        c.id,
        {
          name: 'git-login-2',
          description: 'changed?',
          kind: 'token',
          secret: { token: '' },
          prepare: async () => {
            throw new Error('refused');
          },
        },
        other.id,
      );
      await assert.rejects(refused, /refused/);
      assert.equal((await credentials.findById(c.id))!.description, 'd', 'a refused secret changes nothing');

      assert.equal(await credentials.update(c.id, { name: 'VAULT', description: '', kind: 'token', prepare: spy }, other.id), 'conflict');
      assert.equal(await credentials.update(999999, { name: 'x', description: '', kind: 'token', prepare: spy }, other.id), null);
    });

    test('list: paging, search, kind filter, ordered by name', async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable');
      for (const n of ['b_one', 'a_two', 'c_three'])
        await credentials.create(
          { name: `list-${n}`, description: 'listed', secret: { kind: 'secret_file', value: { content: 'x' } }, fingerprint: null },
          ownerId,
        );
      const page = await credentials.list({ search: 'LIST-' }, { limit: 2, offset: 0 });
      assert.equal(page.total, 3);
      assert.deepEqual(
        page.items.map((c) => c.name),
        ['list-a_two', 'list-b_one'],
      );
      assert.equal((await credentials.list({ search: '_' }, { limit: 10, offset: 0 })).total, 3, '_ is literal in search');
      assert.equal((await credentials.list({ kind: 'secret_file' }, { limit: 10, offset: 0 })).total, 3);
      assert.ok((await credentials.list({}, { limit: 100, offset: 0 })).items.every((c) => !('secret' in c)));
    });

    test('usage names the pipelines whose steps name a credential, case-insensitively; delete removes', async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable');
      const c = (await credentials.create(
        { name: 'Used-Key', description: '', secret: { kind: 'token', value: { token: 't' } }, fingerprint: null },
        ownerId,
      ))!;
      const base = { description: '', status: 'active' as const, repository_url: null, branch: 'main', trigger_events: ['push' as const], variables: {} };
      const p1 = (await pipelines.create(
        { ...base, name: 'uses-it', steps: [{ name: 's', type: 'shell_command', config: { command: 'true' }, credential: 'used-key' }] },
        ownerId,
      ))!;
      await pipelines.create({ ...base, name: 'does-not', steps: [{ name: 's', type: 'shell_command', config: { command: 'echo credential' } }] }, ownerId);
      const usage = await credentials.usage();
      assert.deepEqual(usage.get(usageKey(DEFAULT_PROJECT_ID, 'Used-Key')), [{ id: p1.id, name: 'uses-it' }]);
      assert.equal(usage.size, 1);
      assert.equal(await credentials.delete(c.id), true);
      assert.equal(await credentials.delete(c.id), false);
      assert.equal(await credentials.findById(c.id), null);
    });

    test('a deleted user leaves created_by and updated_by empty', async (t) => {
      if (!db) return t.skip('PostgreSQL unreachable');
      const temp = (await users.create({ username: 'leaver', email: '', role: 'developer', password_hash: 'h' }))!;
      const c = (await credentials.create({ name: 'orphan', description: '', secret: { kind: 'token', value: { token: 't' } }, fingerprint: null }, temp.id))!;
      await db.kysely.deleteFrom('users').where('id', '=', temp.id).execute();
      const after = (await credentials.findById(c.id))!;
      assert.equal(after.created_by, null);
      assert.equal(after.updated_by, null);
    });
  });
}
