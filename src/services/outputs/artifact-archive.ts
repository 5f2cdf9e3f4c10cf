/**
 * An artifact as one tar.gz, streamed as it is read from the store: each file's header (with a PAX
 * record for long or non-ASCII names, through node-tar's Header and Pax) then its bytes, padded to
 * 512. Nothing is written to disk, so a 500 MB artifact costs a 500 MB read, not a copy.
 */
import { createGzip } from 'node:zlib';
import { PassThrough, type Readable } from 'node:stream';
import { Header, Pax } from 'tar';
import type { ArtifactStore } from '../../artifacts/artifact-store.js';
import type { ArtifactFile } from '../../store/outputs-repository.js';

const BLOCK = 512;

/** The archive of `files` (paths inside the artifact); an object missing from the store fails the stream. */
export function artifactArchive(store: ArtifactStore, files: readonly ArtifactFile[], mtime: Date): Readable {
  const tarStream = new PassThrough({ highWaterMark: 1024 * 1024 });
  const gzip = createGzip({ level: 1 });
  tarStream.on('error', (error) => gzip.destroy(error));
  tarStream.pipe(gzip);
  // A client that goes away closes the gzip stream: stop reading the store.
  gzip.on('close', () => tarStream.destroy());
  void (async () => {
    for (const file of files) {
      const body = await store.get(file.key);
      if (!body) throw new Error(`the stored file ${file.path} is missing from ${store.location}`);
      const header = new Header({ path: file.path, mode: 0o644, size: file.size, mtime, type: 'File', uid: 0, gid: 0, uname: '', gname: '' });
      const block = Buffer.alloc(BLOCK);
      header.encode(block, 0);
      if (header.needPax) await write(tarStream, paxBlock(file.path, mtime));
      await write(tarStream, block);
      let sent = 0;
      for await (const chunk of body) {
        sent += (chunk as Buffer).length;
        await write(tarStream, chunk as Buffer);
      }
      if (sent !== file.size) throw new Error(`the stored file ${file.path} has ${sent} bytes, not ${file.size}`);
      const pad = (BLOCK - (file.size % BLOCK)) % BLOCK;
      if (pad > 0) await write(tarStream, Buffer.alloc(pad));
    }
    await write(tarStream, Buffer.alloc(BLOCK * 2));
    tarStream.end();
  })().catch((error: unknown) => tarStream.destroy(error as Error));
  return gzip;
}

function paxBlock(path: string, mtime: Date): Buffer {
  return new Pax({ path, mtime }, false).encode();
}

function write(stream: PassThrough, chunk: Buffer): Promise<void> {
  if (stream.destroyed) return Promise.reject(new Error('the download was closed'));
  if (stream.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', closed);
      resolve();
    };
    const closed = () => {
      stream.off('drain', done);
      reject(new Error('the download was closed'));
    };
    stream.once('drain', done);
    stream.once('close', closed);
  });
}
