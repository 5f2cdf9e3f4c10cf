/**
 * What the audit benchmarks (audit.ts, audit-cpu.ts, audit-profile.ts) share: the real context
 * in a fresh data folder with its admin, the pipelines service with one field replaced, an API
 * server for a service, and the pipeline every measured update rewrites.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/runtime/logger.js';
import { createContext, VERSION, type AppContext as Context } from '../src/runtime/context.js';
import { buildApiServer } from '../src/http/api/api-server.js';
import type { ApiDeps } from '../src/http/api/deps.js';
import type { PipelinesService } from '../src/services/pipelines-service.js';
import { AuditLog } from '../src/services/audit/audit-log.js';
import type { AuditEventsRepository } from '../src/store/audit-events-repository.js';
import { transactor } from '../src/store/transaction.js';
import { CompiledQuery } from 'kysely';

/** The pipeline created once (description 'seed') and then updated: two steps, two variables, one secret. */
export const AUDITED_PIPELINE = {
  name: 'audited-update',
  description: 'seed',
  repository_url: 'https://git.example.com/team/app.git',
  variables: { STAGE: 'prod', API_TOKEN: { value: 'a-secret-value-123', secret: true } },
  steps: [
    { name: 'Build', type: 'shell_command', config: { command: 'echo build && make -j2' } },
    { name: 'Test', type: 'shell_command', config: { command: 'npm test' }, timeout_seconds: 600 },
  ],
};

/**
 * The update's body: a new description each time ('[<id>]' replaced, so every event has a diff),
 * the secret sent back masked as a client that read the pipeline sends it.
 */
export const UPDATE_BODY = JSON.stringify({
  ...AUDITED_PIPELINE,
  description: 'run [<id>]',
  variables: { STAGE: 'prod', API_TOKEN: { value: '******', secret: true } },
});

/** The real context (SQLite, WAL) in a fresh data folder with the admin; `close` removes it all. */
export async function openAuditBench(prefix: string): Promise<{ ctx: Context; dataDir: string; close: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const ctx = await createContext(loadConfig({ NODE_ENV: 'production', ANSFLOW_DATA_DIR: dataDir, ANSFLOW_LOG_LEVEL: 'warn' }), createLogger('warn'));
  await ctx.users.ensureAdmin('admin123');
  return {
    ctx,
    dataDir,
    close: async () => {
      await ctx.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The context's pipelines service with `fields` replaced (its `audit` is what the composition root sets). */
export const serviceWith = (ctx: Context, fields: Record<string, unknown>): PipelinesService =>
  Object.assign(Object.create(Object.getPrototypeOf(ctx.pipelines) as object) as PipelinesService, ctx.pipelines, fields);

/**
 * The audited update's transaction and entry (views, diff) with no event written: in the event
 * INSERT's place a statement that writes nothing.
 */
export const transactionOnlyAudit = (ctx: Context): AuditLog => {
  const nothing = CompiledQuery.raw('SELECT 1', []);
  const noEvents = { in: () => noEvents, insert: async () => {}, insertStatement: () => nothing } as unknown as AuditEventsRepository;
  return new AuditLog(noEvents, transactor(ctx.db.kysely));
};

/** An API server on the context whose pipelines service is `pipelines`. */
export const apiServer = (ctx: Context, pipelines: PipelinesService) =>
  buildApiServer(
    { logger: ctx.logger, bodyLimit: 2 * 1024 * 1024, trustProxy: false },
    { ...(ctx as unknown as ApiDeps), pipelines, version: VERSION, gatewayUrl: '' },
  );

/** Through a listening server at `base`: the admin's token and the pipeline the updates rewrite, created. */
export async function seedAuditedPipeline(base: string): Promise<{ token: string; id: number }> {
  const login = await fetch(`${base}/api/auth/login/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'admin123' }),
  });
  const token = ((await login.json()) as { access: string }).access;
  const created = await fetch(`${base}/api/pipelines/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(AUDITED_PIPELINE),
  });
  if (created.status !== 201) throw new Error(`seed failed: ${created.status} ${await created.text()}`);
  return { token, id: ((await created.json()) as { id: number }).id };
}
