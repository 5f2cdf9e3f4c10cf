/**
 * The filesystem store's stream: sent into an HTTP reply through reused buffers (the download
 * route's path: Fastify pipes it into the response), read as an ordinary stream with fresh ones.
 * A buffer reused before its write left it would corrupt what a slow client receives; a chunk
 * reused while a consumer keeps it would corrupt what that consumer holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { sendDownload } from '../http/api/outputs-routes.js';
import { FileReadStream } from './file-read-stream.js';
import { CHUNK_BYTES } from './file-body.js';
import { waitFor } from '../../test/support/wait.js';

// More chunks than buffers in flight, more bytes than loopback socket buffers hold (a few MiB each
// side) so a paused client makes the writes wait, and a last chunk that is not whole.
const BYTES = 32 * CHUNK_BYTES + 12345;

async function fixture() {
  const dir = await mkdtemp(join(tmpdir(), 'ansflow-file-stream-'));
  const path = join(dir, 'object');
  const content = randomBytes(BYTES);
  await writeFile(path, content);
  const streams: FileReadStream[] = [];
  const app = Fastify();
  app.get('/object', async (req, reply) => {
    const range = req.query as { start?: string; end?: string };
    const start = range.start === undefined ? undefined : Number(range.start);
    const end = range.end === undefined ? undefined : Number(range.end);
    const stream = new FileReadStream(await open(path, 'r'), { start, end });
    streams.push(stream);
    const length = (end ?? BYTES - 1) - (start ?? 0) + 1;
    return sendDownload(reply, stream, 'application/octet-stream', 'attachment; filename="object"', length);
  });
  const url = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
  const get = (path: string, method = 'GET') =>
    new Promise<IncomingMessage>((resolve, reject) => request({ host: url.hostname, port: url.port, path, method }, resolve).on('error', reject).end());
  const close = async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  };
  return { path, content, streams, get, close };
}

test('file stream into an HTTP reply: a client that reads slowly gets every byte, whole and by range, and the file is closed', async () => {
  const f = await fixture();
  try {
    for (const [query, expected] of [
      ['', f.content],
      [`?start=${CHUNK_BYTES - 7}&end=${5 * CHUNK_BYTES + 99}`, f.content.subarray(CHUNK_BYTES - 7, 5 * CHUNK_BYTES + 100)],
    ] as const) {
      const response = await f.get(`/object${query}`);
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['content-length'], String(expected.length));
      // The client stops reading for a while: the socket fills and the server's writes wait.
      response.pause();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      assert.ok(Buffer.concat(chunks).equals(expected), `the bytes of /object${query} arrive as stored`);
    }
    await waitFor(async () => f.streams.every((s) => s.closed), 5000, 'the files to be closed');
  } finally {
    await f.close();
  }
});

test('file stream into an HTTP reply: a client that goes away mid-download closes the file; HEAD sends no body', async () => {
  const f = await fixture();
  try {
    const response = await f.get('/object');
    await once(response, 'data');
    response.destroy();
    await waitFor(async () => f.streams[0]!.closed, 5000, 'the file to be closed after the client left');

    const head = await f.get('/object', 'HEAD');
    assert.equal(head.statusCode, 200);
    assert.equal(head.headers['content-length'], String(BYTES));
    const body: Buffer[] = [];
    for await (const chunk of head) body.push(chunk as Buffer);
    assert.equal(Buffer.concat(body).length, 0);
    await waitFor(async () => f.streams[1]!.closed, 5000, 'the file to be closed after HEAD');
  } finally {
    await f.close();
  }
});

test('file stream read as an ordinary stream: every chunk a consumer keeps stays as read (no reused buffers)', async () => {
  const f = await fixture();
  try {
    // Kept chunks, not copies: a buffer reused under them would change what is held here.
    const kept: Buffer[] = [];
    for await (const chunk of new FileReadStream(await open(f.path, 'r'))) kept.push(chunk as Buffer);
    assert.ok(Buffer.concat(kept).equals(f.content));
    // Piped into something that is not an HTTP response and holds chunks in its queue until read.
    const held = new PassThrough({ highWaterMark: 2 * BYTES });
    const ranged = new FileReadStream(await open(f.path, 'r'), { start: 10, end: BYTES - 11 });
    ranged.pipe(held);
    await once(ranged, 'close');
    const queued: Buffer[] = [];
    held.end();
    for await (const chunk of held) queued.push(chunk as Buffer);
    assert.ok(Buffer.concat(queued).equals(f.content.subarray(10, BYTES - 10)));
  } finally {
    await f.close();
  }
});
