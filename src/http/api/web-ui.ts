/**
 * Serves the built web UI (web/dist) at `/` on port 8000. Any GET that is not an API path and
 * accepts HTML gets index.html, so client-side routes (/pipelines/3, /runs/7) survive a reload.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export function webDistDir(): string {
  // dist/http/api → repo root, and src/http/api → repo root.
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'web', 'dist');
}

export async function registerWebUi(app: FastifyInstance<any, any, any, any, any>, root = webDistDir()): Promise<((url: string) => string | null) | null> {
  const index = join(root, 'index.html');
  if (!existsSync(index)) return null;
  const html = readFileSync(index, 'utf8');
  await app.register(fastifyStatic, { root, prefix: '/', wildcard: false, index: false, maxAge: '1h', immutable: false });
  app.get('/', { config: { public: true }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-cache').send(html),
  );
  return (url: string) => (url.startsWith('/api/') || url === '/api' ? null : html);
}
