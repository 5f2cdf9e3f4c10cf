/**
 * Artifacts of a run (list, the whole artifact as .tar.gz, one file) and caches of a pipeline
 * (list, clear). Downloads are streamed from the store; they are always `application/octet-stream`
 * or `application/gzip` with `nosniff` and an attachment disposition, so nothing a step wrote is
 * ever rendered by a browser on this origin.
 *
 * HEAD is answered by routes of its own, with the GET's headers from the database and the store's
 * metadata, never its bytes (Fastify's automatic HEAD runs the GET handler and reads the whole
 * object to throw it away). One file answers a single byte `Range` (206, or 416) and `If-Range` by
 * its ETag, its SHA-256; the archive is built as it is sent, of no size known beforehand, so it
 * answers every GET whole and offers no ranges.
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
import { contentRange, parseByteRange, rangeApplies, type RangeAnswer } from './byte-range.js';

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

/** The headers of a download, GET or HEAD alike. */
function downloadHeaders(reply: FastifyReply, type: string, disposition: string, length?: number) {
  reply
    .header('Content-Type', type)
    .header('Content-Disposition', disposition)
    .header('X-Content-Type-Options', 'nosniff')
    .header('Cache-Control', 'private, no-store');
  if (length !== undefined) reply.header('Content-Length', String(length));
}

/** A download's reply: its headers, then the stream piped to the socket (bench/artifacts.ts times this path over HTTP). */
export function sendDownload(reply: FastifyReply, stream: Readable, type: string, disposition: string, length?: number) {
  downloadHeaders(reply, type, disposition, length);
  return reply.send(stream);
}

/** A file's strong validator: its bytes' SHA-256, which names exactly those bytes. */
const etagOf = (file: ArtifactFile) => `"${file.sha256}"`;
const fileName = (file: ArtifactFile) => attachment(file.path.split('/').pop()!);

/** The headers a file's GET and HEAD both carry beside `downloadHeaders`. */
function fileValidators(reply: FastifyReply, file: ArtifactFile) {
  reply.header('ETag', etagOf(file)).header('Accept-Ranges', 'bytes');
}

/** The part of a file a GET asks for: its `Range`, unless an `If-Range` names another version. */
function requestedPart(request: { headers: { range?: string; 'if-range'?: string } }, file: ArtifactFile): RangeAnswer {
  if (!rangeApplies(request.headers['if-range'], etagOf(file))) return { kind: 'whole' };
  return parseByteRange(request.headers.range, file.size);
}

const ARCHIVE_URL = '/api/pipeline-runs/:id/artifacts/:artifact_id/download/';
const FILE_URL = '/api/pipeline-runs/:id/artifacts/:artifact_id/files/*';

const fileHeaders = {
  'Content-Length': { type: 'integer', description: 'Bytes sent (the whole file, or the part asked for)' },
  ETag: { type: 'string', description: "The file's SHA-256 in quotes; for `If-Range`" },
  'Accept-Ranges': { type: 'string', description: '`bytes`: one `Range` per request is answered' },
};

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
      ARCHIVE_URL,
      {
        exposeHeadRoute: false,
        schema: {
          tags: ['artifacts'],
          summary: 'The whole artifact as a .tar.gz (streamed)',
          description:
            'Built as it is sent: its size is not known beforehand, so there is no `Content-Length`, a `Range` is answered with the whole archive (200) and no `Accept-Ranges` is offered. `HEAD` answers the same headers without building it.',
          params: ArtifactParams,
          response: { 200: textResponse('application/gzip', 'The artifact as a gzip-compressed tar archive'), ...errorResponses(400, 401, 404, 409, 502) },
        },
      },
      async (request, reply) => {
        const { artifact, stream } = await fromStore(() => outputs.archive(currentUser(request), request.params.id, request.params.artifact_id));
        return sendDownload(reply, stream, 'application/gzip', attachment(`${artifact.name}.tar.gz`));
      },
    );

    // The GET's headers, without building the archive (its size is known only once it is built).
    app.head(ARCHIVE_URL, { schema: { params: ArtifactParams } }, async (request, reply) => {
      const artifact = await outputs.storedArtifact(currentUser(request), request.params.id, request.params.artifact_id);
      downloadHeaders(reply, 'application/gzip', attachment(`${artifact.name}.tar.gz`));
      return reply.send();
    });

    app.get(
      FILE_URL,
      {
        exposeHeadRoute: false,
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
          description:
            'One byte range per request (`Range: bytes=a-b`, `bytes=a-`, `bytes=-n`) is answered with 206 and `Content-Range`; several ranges with the whole file (200); a malformed `bytes` range, or one starting past the end, with 416 and `Content-Range: bytes */size`. `If-Range` with the `ETag` (the SHA-256) resumes only the same bytes; any other value gets the whole file. `HEAD` answers the same headers without reading the file.',
          params: ArtifactFileParams,
          response: {
            200: textResponse('application/octet-stream', "The file's bytes", fileHeaders),
            206: textResponse('application/octet-stream', 'The bytes of the range asked for', {
              ...fileHeaders,
              'Content-Range': { type: 'string', description: '`bytes a-b/size`: the part sent, inclusive, and the whole size' },
            }),
            ...errorResponses(400, 401, 404, 409, 416, 502),
          },
        },
      },
      async (request, reply) => {
        const file = await outputs.fileOf(currentUser(request), request.params.id, request.params.artifact_id, request.params['*']);
        const part = requestedPart(request, file);
        if (part.kind === 'unsatisfiable')
          throw new AppError(
            'RANGE_NOT_SATISFIABLE',
            `The range asked for is malformed or starts past the end of the file (${file.size} bytes)`,
            { size: file.size },
            { 'Content-Range': contentRange(part, file.size) },
          );
        // Opened before any header is set, so a store that lost the file or failed answers a plain error.
        const stream = await fromStore(() => outputs.fileBytes(file, part.kind === 'part' ? part : undefined));
        fileValidators(reply, file);
        if (part.kind === 'whole') return sendDownload(reply, stream, 'application/octet-stream', fileName(file), file.size);
        reply.code(206).header('Content-Range', contentRange(part, file.size));
        return sendDownload(reply, stream, 'application/octet-stream', fileName(file), part.end - part.start + 1);
      },
    );

    // The GET's headers, from the file's record and the store's metadata: its bytes are not read.
    app.head(FILE_URL, { schema: { params: ArtifactFileParams } }, async (request, reply) => {
      const file = await outputs.fileOf(currentUser(request), request.params.id, request.params.artifact_id, request.params['*']);
      await fromStore(() => outputs.fileStored(file));
      fileValidators(reply, file);
      downloadHeaders(reply, 'application/octet-stream', fileName(file), file.size);
      return reply.send();
    });

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
