import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ArtifactStore } from '../../artifacts/artifact-store.js';
import type { ArtifactFile } from '../../store/outputs-repository.js';
import { artifactArchive, levelFor } from './artifact-archive.js';

const MiB = 1024 * 1024;

/** Bytes that do not compress, the same in every run (an AES-CTR keystream under a fixed key). */
function noise(size: number, seed: number): Buffer {
  const key = Buffer.alloc(16, seed);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

/** Just enough of a store for the archive: objects by key, read in 1 MiB chunks. */
function memoryStore(objects: Record<string, Buffer>): ArtifactStore {
  return {
    location: 'memory',
    get: async (key: string) => {
      const body = objects[key];
      if (!body) return null;
      return Readable.from(
        (function* () {
          for (let i = 0; i < body.length; i += MiB) yield body.subarray(i, i + MiB);
        })(),
      );
    },
  } as unknown as ArtifactStore;
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

test('bytes that would not shrink are stored, text is compressed', () => {
  assert.equal(levelFor(noise(MiB, 1)), 0);
  assert.equal(levelFor(Buffer.from('a line of a build log\n'.repeat(50_000))), 1);
  assert.equal(levelFor(Buffer.alloc(0)), 1);
});

test('an archive that switches between stored and compressed members extracts to the same bytes', async () => {
  const objects = {
    noise: noise(3 * MiB, 2),
    log: Buffer.from('compiling module 42 of 1000\n'.repeat(100_000)),
    small: Buffer.from('small file\n'),
    more: noise(2 * MiB + 17, 3),
  };
  const files: ArtifactFile[] = Object.entries(objects).map(([key, body]) => ({ key, path: `out/${key}.bin`, size: body.length }) as ArtifactFile);
  const archive = await collect(artifactArchive(memoryStore(objects), files, new Date('2026-01-02T03:04:05Z')));
  const raw = Object.values(objects).reduce((sum, body) => sum + body.length, 0);
  // The log compresses; the noise costs no more than deflate's stored framing.
  assert.ok(archive.length < objects.noise.length + objects.more.length + objects.log.length / 10, `${archive.length} of ${raw} bytes`);
  // A member per change of level: text (headers), noise, log and the small file, noise again. Each
  // starts with gzip's magic and deflate's method (1f 8b 08); the fixed noise holds no such bytes.
  const members = archive.toString('latin1').split('\x1f\x8b\x08').length - 1;
  assert.equal(members, 4);
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-archive-'));
  try {
    writeFileSync(join(dir, 'a.tar.gz'), archive);
    execFileSync('tar', ['-xzf', 'a.tar.gz'], { cwd: dir });
    for (const [key, body] of Object.entries(objects)) assert.ok(readFileSync(join(dir, 'out', `${key}.bin`)).equals(body), key);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an object missing from the store fails the archive', async () => {
  const files = [{ key: 'gone', path: 'gone.bin', size: 10 } as ArtifactFile];
  await assert.rejects(collect(artifactArchive(memoryStore({}), files, new Date())), /gone\.bin is missing from memory/);
});
