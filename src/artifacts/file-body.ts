/**
 * Moving bytes between open files and streams for the artifact store's adapters: a file's bytes
 * as a stream (read by position, so the caller's handle keeps its own offset), and a stream written
 * into a file that is removed again when the stream fails.
 */
import { createWriteStream } from 'node:fs';
import { rm, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SourceTooLargeError } from './artifact-store.js';

/** Streams move 1 MiB at a time: with Node's 64 KiB default a 500 MB artifact costs 8,000 round trips through the event loop. */
export const CHUNK_BYTES = 1024 * 1024;

/** The bytes of `file` from its start; fails with SourceTooLargeError once more than `maxBytes` have been read. */
export function fileBody(file: FileHandle, maxBytes = Number.POSITIVE_INFINITY): Readable {
  return Readable.from(fileChunks(file, maxBytes), { objectMode: false });
}

async function* fileChunks(file: FileHandle, maxBytes: number): AsyncGenerator<Buffer> {
  for (let position = 0; ;) {
    // A fresh buffer each time: the consumer may still hold the previous one.
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    const { bytesRead } = await file.read(buffer, 0, CHUNK_BYTES, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    if (position > maxBytes) throw new SourceTooLargeError(maxBytes);
    yield bytesRead === CHUNK_BYTES ? buffer : buffer.subarray(0, bytesRead);
  }
}

/** Writes `body` into a new file at `path` (replacing one there); returns the bytes written. On failure the file is removed. */
export async function streamToFile(body: Readable, path: string): Promise<number> {
  let bytes = 0;
  const counted = async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      bytes += chunk.length;
      yield chunk;
    }
  };
  try {
    await pipeline(body, counted, createWriteStream(path, { highWaterMark: CHUNK_BYTES }));
  } catch (error) {
    await rm(path, { force: true }).catch(() => undefined);
    throw error;
  }
  return bytes;
}
