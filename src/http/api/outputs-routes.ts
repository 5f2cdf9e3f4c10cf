/**
 * Artifacts of a run (list, the whole artifact as .tar.gz, one file) and caches of a pipeline
 * (list, clear). Downloads are streamed from the store; they are always `application/octet-stream`
 * or `application/gzip` with `nosniff` and an attachment disposition, so nothing a step wrote is
 * ever rendered by a browser on this origin.
 */
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifySchema } from 'fastify';
import type { App } from '../server.js';
import { currentUser } from '../auth-hook.js';
import { errorResponses, IdParams, textResponse } from '../schemas/common.js';
import {
  ArtifactFileParams,
  ArtifactFileParamsDocumented,
  ArtifactListSchema,
  ArtifactParams,
  CacheParams,
  CachesSchema,
  DeletedSchema,
} from '../schemas/outputs.js';
import type { OutputsService } from '../../services/outputs/outputs-service.js';
import type { Artifact, ArtifactFile } from '../../store/outputs-repository.js';
import { AppError } from '../../domain/errors.js';
import { ArtifactStoreError } from '../../artifacts/artifact-store.js';
import { attachment } from './content-disposition.js';

const artifactBody = (a: Artifact & { files: ArtifactFile[] }, runId: number) => ({
  id: a.id,
  run_id: a.run_id,
  step_id: a.step_run_id,
  name: a.name,
  status: a.status,
  file_count: a.file_count,
  size_bytes: a.size_bytes,
  refused: a.refused,
  error: a.error,
  expires_at: a.expires_at,
  created_at: a.created_at,
  download_url: `/api/pipeline-runs/${runId}/artifacts/${a.id}/download/`,
  files: a.files.map((f) => ({
    path: f.path,
    size_bytes: f.size,
    sha256: f.sha256,
    url: `/api/pipeline-runs/${runId}/artifacts/${a.id}/files/${f.path.split('/').map(encodeURIComponent).join('/')}`,
  })),
});

/** A store that is down is the upstream's fault, said as such (502), not a bug of ours (500). */
async function fromStore<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ArtifactStoreError) throw new AppError('UPSTREAM_ERROR', `The artifact store failed: ${error.message}`);
    throw error;
  }
}

/** A download's reply: its headers, then the stream piped to the socket (bench/artifacts.ts times this path over HTTP). */
export function sendDownload(reply: FastifyReply, stream: Readable, type: string, disposition: string, length?: number) {
  reply
    .header('Content-Type', type)
    .header('Content-Disposition', disposition)
    .header('X-Content-Type-Options', 'nosniff')
    .header('Cache-Control', 'private, no-store');
  if (length !== undefined) reply.header('Content-Length', String(length));
  return reply.send(stream);
}

export function outputsRoutes(outputs: OutputsService) {
  return (app: App) => {
    app.get(
      '/api/pipeline-runs/:id/artifacts/',
      {
        schema: {
          tags: ['artifacts'],
          summary: "A run's artifacts: names, sizes, refused paths, download links",
          params: IdParams,
          response: { 200: ArtifactListSchema, ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => {
        const list = await outputs.artifacts(currentUser(request), request.params.id);
        return { count: list.length, results: list.map((a) => artifactBody(a, request.params.id)) };
      },
    );

    app.get(
      '/api/pipeline-runs/:id/artifacts/:artifact_id/download/',
      {
        schema: {
          tags: ['artifacts'],
          summary: 'The whole artifact as a .tar.gz (streamed)',
          params: ArtifactParams,
          response: { 200: textResponse('application/gzip', 'The artifact as a gzip-compressed tar archive'), ...errorResponses(400, 401, 404, 409, 502) },
        },
      },
      async (request, reply) => {
        const { artifact, stream } = await fromStore(() => outputs.archive(currentUser(request), request.params.id, request.params.artifact_id));
        return sendDownload(reply, stream, 'application/gzip', attachment(`${artifact.name}.tar.gz`));
      },
    );

    app.get(
      '/api/pipeline-runs/:id/artifacts/:artifact_id/files/*',
      {
        // The document names the wildcard `{path}` (OpenAPI has no `{*}`); the route matches the rest of the URL as before.
        config: {
          swaggerTransform: ({ schema, url }: { schema: FastifySchema; url: string }) => ({
            url: url.replace(/\*$/, ':path'),
            schema: { ...schema, params: ArtifactFileParamsDocumented },
          }),
        },
        schema: {
          tags: ['artifacts'],
          summary: 'One file of an artifact, by its path inside it (streamed)',
          params: ArtifactFileParams,
          response: { 200: textResponse('application/octet-stream', "The file's bytes"), ...errorResponses(400, 401, 404, 409, 502) },
        },
      },
      async (request, reply) => {
        const { file, stream } = await fromStore(() => outputs.file(currentUser(request), request.params.id, request.params.artifact_id, request.params['*']));
        return sendDownload(reply, stream, 'application/octet-stream', attachment(file.path.split('/').pop()!), file.size);
      },
    );

    app.get(
      '/api/pipelines/:id/caches/',
      {
        schema: {
          tags: ['caches'],
          summary: "A pipeline's caches: keys, scopes, sizes, last use and hit rate",
          params: IdParams,
          response: { 200: CachesSchema, ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => {
        const view = await outputs.caches(currentUser(request), request.params.id);
        return { count: view.results.length, total_bytes: view.total_bytes, stats: view.stats, results: view.results };
      },
    );

    app.delete(
      '/api/pipelines/:id/caches/',
      {
        schema: {
          tags: ['caches'],
          summary: 'Clear every cache of a pipeline',
          params: IdParams,
          response: { 200: DeletedSchema, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => ({ deleted: await fromStore(() => outputs.deleteCaches(currentUser(request), request.params.id, null)) }),
    );

    app.delete(
      '/api/pipelines/:id/caches/:cache_id/',
      {
        schema: {
          tags: ['caches'],
          summary: 'Clear one cache entry of a pipeline',
          params: CacheParams,
          response: { 200: DeletedSchema, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => ({ deleted: await fromStore(() => outputs.deleteCaches(currentUser(request), request.params.id, request.params.cache_id)) }),
    );
  };
}
