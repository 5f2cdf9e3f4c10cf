/**
 * `ansflow secret-key rotate` as a real process while this process keeps reading and writing
 * sealed values through its own context (as a running server does): no read fails, every value
 * ends under the new key (old-key and v1 values alike), and a fresh start with only the new key
 * opens credentials and the secret variables of pipelines and runs. Key in the data folder (on
 * SQLite and PostgreSQL), and key in the environment with --from-env.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/runtime/logger.js';
import { createContext, type AppContext } from '../../src/runtime/context.js';
import { NotificationsRepository } from '../../src/store/notifications-repository.js';
import { keyId, SecretBox } from '../../src/store/secret-box.js';
import type { Variables } from '../../src/domain/pipeline.js';
import { runCli } from '../support/server-process.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
/** Credentials created without a project are in the `default` project, the first one (migration 009). */
const DEFAULT_PROJECT_ID = 1;

const CREDENTIALS = ['rot-token', 'rot-login', 'rot-legacy'];

/** A value as it was sealed before key ids existed (format v1). */
function sealV1(secretKey: string, plain: string): string {
  const key = Buffer.from(hkdfSync('sha256', secretKey, 'ansflow', 'variables-at-rest', 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join(':');
}

const secretVars = (n: number): Variables => ({ PLAIN: { value: 'plain', secret: false }, TOKEN: { value: `pipeline-secret-${n}`, secret: true } });

async function context(env: Record<string, string>): Promise<AppContext> {
  const config = loadConfig({ NODE_ENV: 'test', ANSFLOW_API_PORT: '0', ANSFLOW_GATEWAY_PORT: '0', ...env });
  return createContext(config, createLogger('silent'));
}

/** Credentials (one written in the old v1 format), pipelines and a run with secret variables. */
async function seed(ctx: AppContext, secretKey: string): Promise<{ pipelineIds: number[]; runId: number }> {
  const user = await ctx.users.create({ username: 'rotator', password: 'password-123', role: 'admin' });
  await ctx.repos.credentials.create(
    { name: 'rot-token', description: '', secret: { kind: 'token', value: { token: 'tok-before-rotation' } }, fingerprint: null },
    user.id,
  );
  await ctx.repos.credentials.create(
    { name: 'rot-login', description: '', secret: { kind: 'username_password', value: { username: 'u', password: 'pw-before-rotation' } }, fingerprint: null },
    user.id,
  );
  const legacy = await ctx.repos.credentials.create(
    { name: 'rot-legacy', description: '', secret: { kind: 'token', value: { token: 'x' } }, fingerprint: null },
    user.id,
  );
  await ctx.db.kysely
    .updateTable('credentials')
    .set({ secret: sealV1(secretKey, JSON.stringify({ token: 'tok-legacy-v1' })) })
    .where('id', '=', legacy!.id)
    .execute();
  await new NotificationsRepository(ctx.db.kysely, ctx.secrets).create(
    {
      project_id: DEFAULT_PROJECT_ID,
      name: 'rot-hook',
      kind: 'webhook',
      config: { url: 'http://127.0.0.1:9/' },
      events: ['run_failed'],
      pipelines: null,
      enabled: true,
      secret: 'hook-secret-before-rotation',
    },
    user.id,
  );
  const pipelineIds: number[] = [];
  for (let i = 0; i < 30; i++) {
    const p = await ctx.repos.pipelines.create(
      {
        name: `rot-${i}`,
        description: '',
        status: 'active',
        repository_url: null,
        branch: 'main',
        trigger_events: ['push'],
        variables: secretVars(i),
        steps: [],
      },
      user.id,
    );
    pipelineIds.push(p!.id);
  }
  const run = await ctx.repos.runs.create({
    pipelineId: pipelineIds[0]!,
    trigger: { type: 'manual' },
    branch: 'main',
    commit: null,
    variables: { RUN_SECRET: { value: 'run-secret-value', secret: true } },
  });
  return { pipelineIds, runId: run!.id };
}

async function readEverything(ctx: AppContext, pipelineIds: number[], runId: number): Promise<void> {
  const opened = await ctx.repos.credentials.open(CREDENTIALS, DEFAULT_PROJECT_ID);
  assert.deepEqual(
    opened.map((c) => c.secret.value),
    [{ token: 'tok-before-rotation' }, { username: 'u', password: 'pw-before-rotation' }, { token: 'tok-legacy-v1' }],
  );
  for (const id of pipelineIds) assert.equal((await ctx.repos.pipelines.findById(id))!.variables.TOKEN!.value.startsWith('pipeline-secret-'), true);
  assert.equal((await ctx.repos.runs.findById(runId))!.variables.RUN_SECRET!.value, 'run-secret-value');
  const channels = new NotificationsRepository(ctx.db.kysely, ctx.secrets);
  const [channel] = (await channels.list({}, { limit: 10, offset: 0 })).items;
  assert.equal(await channels.openSecret(channel!.id), 'hook-secret-before-rotation');
}

/** Every sealed value in the database, whatever holds it. */
async function allSealed(ctx: AppContext): Promise<string[]> {
  const out = (await ctx.db.kysely.selectFrom('credentials').select('secret').execute()).map((r) => r.secret);
  for (const row of await ctx.db.kysely.selectFrom('notification_channels').select('secret').execute()) if (row.secret) out.push(row.secret);
  for (const table of ['pipelines', 'pipeline_runs'] as const)
    for (const row of await ctx.db.kysely.selectFrom(table).select('variables').execute())
      for (const v of Object.values(JSON.parse(row.variables) as Record<string, { value: string; secret: boolean }>)) if (v.secret) out.push(v.value);
  return out;
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`secret-key rotate, key in the data folder, on ${backend}`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ansflow-rotate-'));
    let pg: TestDatabase | null = null;
    after(async () => {
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    test('rotates while this process reads and writes; nothing fails; a restart needs only the new key', async (t) => {
      if (backend === 'postgres') {
        pg = await createTestDatabase();
        if (!pg) return t.skip('PostgreSQL unreachable');
      }
      const env: Record<string, string> = { ANSFLOW_DATA_DIR: dataDir, ...(pg ? { ANSFLOW_DATABASE_URL: pg.url } : {}) };
      const ctx = await context(env);
      const oldKey = readFileSync(join(dataDir, 'secret.key'), 'utf8').trim();
      const { pipelineIds, runId } = await seed(ctx, oldKey);

      // The reader and the writer stand for two running servers (two contexts, so the reader's box
      // learns of the new key only by meeting it): reads must never fail, and values the writer
      // seals while the rotation runs must end under the new key too.
      const writerCtx = await context(env);
      let stop = false;
      let reads = 0;
      let writes = 0;
      const failures: string[] = [];
      const reader = (async () => {
        while (!stop) {
          try {
            await readEverything(ctx, pipelineIds, runId);
            reads++;
          } catch (error) {
            failures.push(String(error));
          }
          // SQLite answers synchronously: without a turn of the event loop nothing else would run.
          await new Promise((r) => setImmediate(r));
        }
      })();
      const writer = (async () => {
        while (!stop) {
          const id = pipelineIds[writes % pipelineIds.length]!;
          const current = (await writerCtx.repos.pipelines.findById(id))!;
          await writerCtx.repos.pipelines.update(current, { ...current, variables: secretVars(writes) });
          writes++;
          await new Promise((r) => setTimeout(r, 5));
        }
      })();

      const result = await runCli(['secret-key', 'rotate', '--batch-size', '7'], env);
      stop = true;
      await Promise.all([reader, writer]);
      await writerCtx.close();
      assert.equal(result.code, 0, result.stderr + result.stdout);
      assert.match(result.stdout, /Done: every value is sealed under key/);
      assert.deepEqual(failures, []);
      assert.ok(reads > 3, `the reader kept reading during the rotation (${reads} rounds)`);
      assert.ok(writes > 3, `the writer kept writing during the rotation (${writes} writes)`);

      const newKey = readFileSync(join(dataDir, 'secret.key'), 'utf8').trim();
      assert.notEqual(newKey, oldKey);
      assert.equal(existsSync(join(dataDir, 'secret.key.previous')), false, 'the old key is gone once every value is re-sealed');
      const sealed = await allSealed(ctx);
      assert.ok(sealed.length >= 34);
      for (const value of sealed) assert.ok(value.startsWith(`v2:${keyId(newKey)}:`), `not under the new key: ${value.slice(0, 14)}`);
      assert.throws(() => new SecretBox(oldKey).open(sealed[0]!), 'the old key opens nothing any more');
      await ctx.close();

      const restarted = await context(env);
      try {
        await readEverything(restarted, pipelineIds, runId);
      } finally {
        await restarted.close();
      }
    });
  });
}

describe('secret-key rotate, key in the environment', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ansflow-rotate-env-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const OLD = 'o'.repeat(40);
  const NEW = 'N'.repeat(44);

  test('--from-env re-seals under ANSFLOW_SECRET_KEY; the old key is then not needed; tokens of the old key verify meanwhile', async () => {
    const before = await context({ ANSFLOW_DATA_DIR: dataDir, ANSFLOW_SECRET_KEY: OLD });
    const { pipelineIds, runId } = await seed(before, OLD);
    const oldToken = (await before.auth.login({ username: 'rotator', password: 'password-123', client: '127.0.0.1' })).access;
    await before.close();

    const refused = await runCli(['secret-key', 'rotate'], { ANSFLOW_DATA_DIR: dataDir, ANSFLOW_SECRET_KEY: NEW, ANSFLOW_SECRET_KEY_PREVIOUS: OLD });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--from-env/);

    // Step 1 of the procedure: processes restarted with the new key and the old one as previous.
    const during = await context({ ANSFLOW_DATA_DIR: dataDir, ANSFLOW_SECRET_KEY: NEW, ANSFLOW_SECRET_KEY_PREVIOUS: OLD });
    await readEverything(during, pipelineIds, runId);
    assert.equal((await during.auth.authenticate(oldToken)).username, 'rotator', 'a token signed with the old key still verifies');
    const rotated = await runCli(['secret-key', 'rotate', '--from-env'], {
      ANSFLOW_DATA_DIR: dataDir,
      ANSFLOW_SECRET_KEY: NEW,
      ANSFLOW_SECRET_KEY_PREVIOUS: OLD,
    });
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /remove ANSFLOW_SECRET_KEY_PREVIOUS/);
    for (const value of await allSealed(during)) assert.ok(value.startsWith(`v2:${keyId(NEW)}:`));
    await during.close();

    const afterwards = await context({ ANSFLOW_DATA_DIR: dataDir, ANSFLOW_SECRET_KEY: NEW });
    try {
      await readEverything(afterwards, pipelineIds, runId);
    } finally {
      await afterwards.close();
    }
  });

  test('help, and bad settings are reported by name', async () => {
    const help = await runCli(['secret-key', '--help'], {});
    assert.equal(help.code, 0);
    assert.match(help.stdout, /ansflow secret-key rotate/);
    const bad = await runCli(['secret-key', 'rotate', '--from-env'], {
      ANSFLOW_DATA_DIR: dataDir,
      ANSFLOW_SECRET_KEY: NEW,
      ANSFLOW_SECRET_KEY_PREVIOUS: 'short',
    });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /ANSFLOW_SECRET_KEY_PREVIOUS/);
  });
});
