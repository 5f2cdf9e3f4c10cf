/**
 * The two OpenAPI documents exactly as the servers serve them: the management API built by the
 * same `buildApi` that `ansflow serve` listens with (so no route group can be left out), and the
 * gateway by `buildGateway`. Used by scripts/postman.ts and by scripts/check-api-docs.ts.
 *   node --import tsx scripts/api-documents.ts DIR   writes DIR/api.json and DIR/gateway.json
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/runtime/logger.js';
import { createContext } from '../src/runtime/context.js';
import { buildApi } from '../src/runtime/servers.js';
import { buildGateway } from '../src/runtime/gateway.js';
import { gatewayOptionsFromConfig } from '../src/http/gateway/gateway-options.js';

export interface OpenApiDocument {
  openapi: string;
  servers?: Array<{ url: string; description?: string }>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, unknown> };
}

export interface OpenApiOperation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  parameters?: Array<{ in: string; name: string; required?: boolean; description?: string; schema?: any }>;
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: any }>; headers?: Record<string, unknown> }>;
}

export async function apiDocuments(): Promise<{ api: OpenApiDocument; gateway: OpenApiDocument }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ansflow-openapi-'));
  const config = loadConfig({ NODE_ENV: 'test', ANSFLOW_DATA_DIR: dataDir });
  const ctx = await createContext(config, createLogger('silent'));
  try {
    const api = await buildApi(ctx, '');
    await api.ready();
    const apiSpec = structuredClone(api.swagger()) as unknown as OpenApiDocument;
    await api.close();
    const gateway = await buildGateway(ctx, gatewayOptionsFromConfig(config));
    await gateway.ready();
    const gatewaySpec = structuredClone(gateway.swagger()) as unknown as OpenApiDocument;
    await gateway.close();
    return { api: apiSpec, gateway: gatewaySpec };
  } finally {
    await ctx.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: scripts/api-documents.ts DIR');
  mkdirSync(dir, { recursive: true });
  const { api, gateway } = await apiDocuments();
  writeFileSync(join(dir, 'api.json'), JSON.stringify(api, null, 2) + '\n');
  writeFileSync(join(dir, 'gateway.json'), JSON.stringify(gateway, null, 2) + '\n');
  console.log(`wrote ${join(dir, 'api.json')} and ${join(dir, 'gateway.json')}`);
}
