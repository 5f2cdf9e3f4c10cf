/**
 * An artifact as one tar.gz, streamed as it is read from the store: each file's header (with a PAX
 * record for long or non-ASCII names, through node-tar's Header and Pax) then its bytes, padded to
 * 512. Nothing is written to disk, so a 500 MB artifact costs a 500 MB read, not a copy.
 *
 * Deflate at level 1 crawls through bytes that do not compress (binaries, archives, images: ~30 MB/s
 * on our 2-core machine, against ~300 MB/s for level 0's stored blocks), so the first chunk of each
 * large file is tried first and a run of files that would not shrink goes into a gzip member of its
 * own at level 0. A gzip file is a series of members (RFC 1952, 2.2), which gzip, GNU tar, Python
 * and Node's zlib all read as one stream. (zlib's `params` can change the level inside a member,
 * but a member switched to level 0 that way still ran at level 1's speed here.)
 */
import { createGzip, deflateRawSync, type Gzip } from 'node:zlib';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { Header, Pax } from 'tar';
import type { ArtifactStore } from '../../artifacts/artifact-store.js';
import type { ArtifactFile } from '../../store/outputs-repository.js';

const BLOCK = 512;
const COMPRESS = 1;
const STORE = 0;
/** Files smaller than this are compressed without a trial: the trial would cost more than it saves. */
const TRY_FROM = 1024 * 1024;
const SAMPLE_BYTES = 64 * 1024;
/** A sample that deflate cannot bring under this share of its size is not worth compressing. */
const WORTH_IT = 0.9;

/** The archive of `files` (paths inside the artifact); an object missing from the store fails the stream. */
export function artifactArchive(store: ArtifactStore, files: readonly ArtifactFile[], mtime: Date): Readable {
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  let member: Gzip | undefined;
  let level = COMPRESS;
  // A client that goes away closes the output: stop reading the store.
  out.on('close', () => member?.destroy());
  const startMember = (wanted: number) => {
    level = wanted;
    member = createGzip({ level });
    member.on('error', (error) => out.destroy(error));
    member.pipe(out, { end: false });
  };
  const endMember = async () => {
    const ending = member;
    if (!ending) return;
    member = undefined;
    await new Promise<void>((resolve, reject) => {
      ending.once('end', resolve);
      ending.once('error', reject);
      ending.end();
    });
  };
  const send = (chunk: Buffer) => write(member!, chunk, out);
  void (async () => {
    startMember(COMPRESS);
    for (const file of files) {
      const body = await store.get(file.key);
      if (!body) throw new Error(`the stored file ${file.path} is missing from ${store.location}`);
      const header = new Header({ path: file.path, mode: 0o644, size: file.size, mtime, type: 'File', uid: 0, gid: 0, uname: '', gname: '' });
      const block = Buffer.alloc(BLOCK);
      header.encode(block, 0);
      if (header.needPax) await send(paxBlock(file.path, mtime));
      await send(block);
      let sent = 0;
      for await (const chunk of body) {
        if (sent === 0 && file.size >= TRY_FROM) {
          const wanted = levelFor(chunk as Buffer);
          if (wanted !== level) {
            await endMember();
            startMember(wanted);
          }
        }
        sent += (chunk as Buffer).length;
        await send(chunk as Buffer);
      }
      if (sent !== file.size) throw new Error(`the stored file ${file.path} has ${sent} bytes, not ${file.size}`);
      const pad = (BLOCK - (file.size % BLOCK)) % BLOCK;
      if (pad > 0) await send(Buffer.alloc(pad));
    }
    await send(Buffer.alloc(BLOCK * 2));
    await endMember();
    out.end();
  })().catch((error: unknown) => out.destroy(error as Error));
  return out;
}

/** The level for a file whose first bytes are `chunk`: level 1 unless a sample of it would not shrink. */
export function levelFor(chunk: Buffer): number {
  const sample = chunk.subarray(0, SAMPLE_BYTES);
  if (sample.length === 0) return COMPRESS;
  return deflateRawSync(sample, { level: COMPRESS }).length / sample.length < WORTH_IT ? COMPRESS : STORE;
}

function paxBlock(path: string, mtime: Date): Buffer {
  return new Pax({ path, mtime }, false).encode();
}

/** Writes into the current member, waiting while it (or the output behind it) is full. */
function write(stream: Writable, chunk: Buffer, out: Readable): Promise<void> {
  if (out.destroyed || stream.destroyed) return Promise.reject(new Error('the download was closed'));
  if (stream.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      stream.off('drain', done);
      out.off('close', closed);
      resolve();
    };
    const closed = () => {
      stream.off('drain', done);
      reject(new Error('the download was closed'));
    };
    stream.once('drain', done);
    out.once('close', closed);
  });
}
