/**
 * Generates docs/api/postman_collection.json from the OpenAPI documents the servers serve (the
 * same TypeBox schemas that validate requests). `--check` exits non-zero when the file is stale.
 *   node --import tsx scripts/postman.ts [--check]
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/runtime/logger.js';
import { createContext, VERSION } from '../src/runtime/context.js';
import { buildApiServer } from '../src/http/api/api-server.js';
import { webhookDeliveriesRoutes } from '../src/http/api/webhook-deliveries-routes.js';
import { badgeRoutes } from '../src/http/api/badge-routes.js';
import { PipelineBadges } from '../src/services/pipelines/pipeline-badge.js';
import { BadgeRepository } from '../src/store/badge-repository.js';
import { retentionRoutes } from '../src/http/api/retention-routes.js';
import { retentionOf } from '../src/runtime/retention.js';
import { buildGateway } from '../src/runtime/gateway.js';
import { gatewayOptionsFromConfig } from '../src/http/gateway/gateway-options.js';

export const COLLECTION_PATH = 'docs/api/postman_collection.json';

interface OpenApi {
  paths: Record<
    string,
    Record<
      string,
      {
        summary?: string;
        tags?: string[];
        requestBody?: { content?: Record<string, { schema?: unknown }> };
        parameters?: Array<{ in: string; name: string; required?: boolean; description?: string }>;
      }
    >
  >;
}

function example(schema: any): unknown {
  if (!schema || typeof schema !== 'object') return null;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  if (schema.anyOf) return example(schema.anyOf[0]);
  switch (schema.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const name of schema.required ?? []) out[name] = example(schema.properties?.[name]);
      return out;
    }
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return false;
    case 'string':
      return schema.minLength ? 'x'.repeat(Math.min(schema.minLength, 8)) : '';
    default:
      return null;
  }
}

export function collectionFrom(apis: Array<{ spec: OpenApi; baseVar: string }>) {
  const folders = new Map<string, unknown[]>();
  for (const { spec, baseVar } of apis) {
    for (const [path, methods] of Object.entries(spec.paths).sort(([a], [b]) => a.localeCompare(b))) {
      for (const [method, op] of Object.entries(methods)) {
        const segments = path
          .split('/')
          .filter(Boolean)
          .map((s) => s.replace(/^\{(.+)\}$/, ':$1'));
        const query = (op.parameters ?? [])
          .filter((p) => p.in === 'query')
          .map((p) => ({ key: p.name, value: '', disabled: true, description: p.description ?? '' }));
        const variable = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => ({ key: p.name, value: '1' }));
        const schema = op.requestBody?.content?.['application/json']?.schema;
        const request: Record<string, unknown> = {
          method: method.toUpperCase(),
          header: schema ? [{ key: 'Content-Type', value: 'application/json' }] : [],
          url: {
            raw: `{{${baseVar}}}${path.replace(/\{(.+?)\}/g, ':$1')}`,
            host: [`{{${baseVar}}}`],
            path: segments,
            ...(query.length ? { query } : {}),
            ...(variable.length ? { variable } : {}),
          },
          ...(schema ? { body: { mode: 'raw', raw: JSON.stringify(example(schema), null, 2), options: { raw: { language: 'json' } } } } : {}),
        };
        const tag = op.tags?.[0] ?? 'other';
        if (!folders.has(tag)) folders.set(tag, []);
        folders.get(tag)!.push({ name: op.summary ?? `${method.toUpperCase()} ${path}`, request });
      }
    }
  }
  return {
    info: {
      name: 'AnsFlow API',
      description: 'Generated from the OpenAPI documents by scripts/postman.ts — do not edit by hand.',
      schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
    },
    auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{token}}', type: 'string' }] },
    variable: [
      { key: 'base_url', value: 'http://localhost:8000' },
      { key: 'fastapi_url', value: 'http://localhost:8001' },
      { key: 'token', value: '{{access_token}}' },
    ],
    item: [...folders.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, item]) => ({ name, item })),
  };
}

export async function generateCollection(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ansflow-postman-'));
  const config = loadConfig({ NODE_ENV: 'test', ANSFLOW_DATA_DIR: dataDir });
  const ctx = await createContext(config, createLogger('silent'));
  try {
    const api = await buildApiServer(
      { logger: ctx.logger, bodyLimit: 1024, trustProxy: false },
      {
        auth: ctx.auth,
        users: ctx.users,
        pipelines: ctx.pipelines,
        runs: ctx.runs,
        credentials: ctx.credentials,
        projects: ctx.projects,
        personalTokens: ctx.personalTokens,
        audit: ctx.audit,
        sso: ctx.sso,
        passwordLogin: ctx.config.passwordLogin,
        version: VERSION,
        gatewayUrl: '',
      },
      [
        webhookDeliveriesRoutes(ctx.deliveries),
        badgeRoutes(new PipelineBadges({ badges: new BadgeRepository(ctx.db.kysely), access: ctx.access }), ctx.auth),
        retentionRoutes(retentionOf(ctx).service),
      ],
    );
    await api.ready();
    const spec = api.swagger() as unknown as OpenApi;
    await api.close();
    // The gateway (port 8001) under the document's `fastapi_url` variable.
    const gateway = await buildGateway(ctx, gatewayOptionsFromConfig(config));
    await gateway.ready();
    const gatewaySpec = gateway.swagger() as unknown as OpenApi;
    await gateway.close();
    return (
      JSON.stringify(
        collectionFrom([
          { spec, baseVar: 'base_url' },
          { spec: gatewaySpec, baseVar: 'fastapi_url' },
        ]),
        null,
        2,
      ) + '\n'
    );
  } finally {
    await ctx.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = await generateCollection();
  if (process.argv.includes('--check')) {
    const current = readFileSync(COLLECTION_PATH, 'utf8');
    if (current !== text) {
      console.error(`${COLLECTION_PATH} is stale: run npm run docs:api`);
      process.exit(1);
    }
  } else {
    writeFileSync(COLLECTION_PATH, text);
    console.log(`wrote ${COLLECTION_PATH}`);
  }
}
