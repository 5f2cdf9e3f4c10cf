/**
 * The ArtifactStore contract every adapter passes (filesystem, S3). `make` returns a fresh, empty
 * store and a way to dispose of it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { SourceTooLargeError, type ArtifactStore } from './artifact-store.js';
import { InvalidArtifactKeyError } from './artifact-key.js';

export interface StoreUnderTest {
  store: ArtifactStore;
  dispose(): Promise<void>;
}

const bytesOf = async (stream: Readable | null): Promise<Buffer> => {
  assert.ok(stream, 'the object exists');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const keysOf = async (store: ArtifactStore, prefix: string) => {
  const keys: string[] = [];
  for await (const object of store.list(prefix)) keys.push(object.key);
  return keys;
};

/** A body that sends some bytes and then fails, like a step's file vanishing mid-upload. */
function failingBody(after: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(after);
      } else {
        this.destroy(new Error('the source broke'));
      }
    },
  });
}

export function artifactStoreContract(name: string, make: () => Promise<StoreUnderTest>): void {
  const withStore = (title: string, body: (store: ArtifactStore, files: string) => Promise<void>) =>
    test(title, { timeout: 60_000 }, async () => {
      const { store, dispose } = await make();
      // A folder of local files to store from and download into.
      const files = await mkdtemp(join(tmpdir(), 'ansflow-contract-files-'));
      try {
        await body(store, files);
      } finally {
        await dispose();
        await rm(files, { recursive: true, force: true });
      }
    });

  describe(`ArtifactStore contract: ${name}`, () => {
    withStore('what is put comes back byte for byte, with its size and SHA-256', async (store) => {
      const data = randomBytes(300_000);
      const stored = await store.put('runs/1/artifacts/a.bin', Readable.from([data.subarray(0, 1000), data.subarray(1000)]));
      assert.deepEqual(stored, { key: 'runs/1/artifacts/a.bin', size: data.length, sha256: sha256(data) });
      assert.ok((await bytesOf(await store.get('runs/1/artifacts/a.bin'))).equals(data));
      const info = await store.stat('runs/1/artifacts/a.bin');
      assert.equal(info?.size, data.length);
      assert.ok(info!.modifiedAt.getTime() > Date.now() - 3_600_000, 'a recent modification time');
    });

    withStore('an empty object is an object', async (store) => {
      const stored = await store.put('empty', Readable.from([]));
      assert.equal(stored.size, 0);
      assert.equal(stored.sha256, sha256(Buffer.alloc(0)));
      assert.equal((await bytesOf(await store.get('empty'))).length, 0);
      assert.deepEqual(await keysOf(store, ''), ['empty']);
    });

    withStore('a large object, in many parts, arrives whole', async (store) => {
      const part = randomBytes(1024 * 1024);
      const parts = Array.from({ length: 20 }, (_, i) => Buffer.concat([part, Buffer.from([i])]));
      const whole = Buffer.concat(parts);
      const stored = await store.put('big/object', Readable.from(parts));
      assert.equal(stored.size, whole.length);
      assert.equal(stored.sha256, sha256(whole));
      assert.equal(sha256(await bytesOf(await store.get('big/object'))), sha256(whole));
    });

    withStore('absent objects are null, not errors', async (store) => {
      assert.equal(await store.get('runs/9/none'), null);
      assert.equal(await store.stat('runs/9/none'), null);
      await store.delete('runs/9/none');
      assert.equal(await store.deletePrefix('runs/9/'), 0);
    });

    withStore('a byte range reads part of an object (inclusive end, open end)', async (store) => {
      await store.put('r', Readable.from([Buffer.from('0123456789')]));
      assert.equal(await text((await store.get('r', { start: 2, end: 5 }))!), '2345');
      assert.equal(await text((await store.get('r', { start: 7 }))!), '789');
    });

    withStore('a put that fails midway leaves the old object and lists nothing new', async (store) => {
      await store.put('keep/me', Readable.from([Buffer.from('old')]));
      await assert.rejects(store.put('keep/me', failingBody(randomBytes(64 * 1024))));
      await assert.rejects(store.put('keep/new', failingBody(randomBytes(64 * 1024))));
      assert.equal(await text((await store.get('keep/me'))!), 'old');
      assert.deepEqual(await keysOf(store, 'keep/'), ['keep/me']);
      assert.equal(await store.stat('keep/new'), null);
    });

    withStore('a put replaces an object', async (store) => {
      await store.put('x', Readable.from([Buffer.from('first')]));
      await store.put('x', Readable.from([Buffer.from('second, longer')]));
      assert.equal(await text((await store.get('x'))!), 'second, longer');
      assert.equal((await store.stat('x'))?.size, 14);
    });

    withStore('listing is by prefix, each object once, and a prefix is a folder not a string start', async (store) => {
      for (const key of ['runs/10/a', 'runs/1/b', 'runs/1/a.b', 'runs/1/a/c', 'runs/2/a']) await store.put(key, Readable.from([Buffer.from(key)]));
      assert.deepEqual((await keysOf(store, 'runs/1/')).sort(), ['runs/1/a.b', 'runs/1/a/c', 'runs/1/b']);
      assert.deepEqual((await keysOf(store, '')).sort(), ['runs/1/a.b', 'runs/1/a/c', 'runs/1/b', 'runs/10/a', 'runs/2/a']);
      const sizes: number[] = [];
      for await (const object of store.list('runs/2/')) sizes.push(object.size);
      assert.deepEqual(sizes, ['runs/2/a'.length]);
    });

    withStore('delete and delete-by-prefix remove exactly what they name', async (store) => {
      for (const key of ['runs/1/a', 'runs/1/b/c', 'runs/10/a', 'runs/2/a']) await store.put(key, Readable.from([Buffer.from('x')]));
      await store.delete('runs/2/a');
      assert.equal(await store.get('runs/2/a'), null);
      assert.equal(await store.deletePrefix('runs/1/'), 2);
      assert.deepEqual(await keysOf(store, ''), ['runs/10/a']);
    });

    withStore('a file is stored from its open handle, small or large (whatever its position), and downloaded into a file', async (store, files) => {
      // 9 MiB, last written a minute ago: the filesystem store copies it in the kernel.
      const large = randomBytes(9 * 1024 * 1024 + 123);
      const small = Buffer.from('a small file\n');
      for (const [name, data] of [
        ['large.bin', large],
        ['small.txt', small],
      ] as const) {
        const path = join(files, name);
        await writeFile(path, data);
        const past = new Date(Date.now() - 60_000);
        await utimes(path, past, past);
        const handle = await open(path, 'r');
        try {
          await handle.read(Buffer.alloc(7), 0, 7, null);
          const stored = await store.putFile(`files/${name}`, handle);
          assert.deepEqual(stored, { key: `files/${name}`, size: data.length, sha256: sha256(data) });
        } finally {
          await handle.close();
        }
        assert.ok((await bytesOf(await store.get(`files/${name}`))).equals(data), name);
        const into = join(files, `${name}.down`);
        await writeFile(into, 'something longer than the small file was, to be replaced');
        assert.equal(await store.getToFile(`files/${name}`, into), data.length);
        assert.ok((await readFile(into)).equals(data), `${name} downloaded whole`);
      }
    });

    withStore('a file over maxBytes is refused with SourceTooLargeError and nothing is stored', async (store, files) => {
      const path = join(files, 'big.bin');
      await writeFile(path, randomBytes(5 * 1024 * 1024));
      const past = new Date(Date.now() - 60_000);
      await utimes(path, past, past);
      const handle = await open(path, 'r');
      try {
        await assert.rejects(store.putFile('too/big', handle, { maxBytes: 5 * 1024 * 1024 - 1 }), SourceTooLargeError);
        const exact = await store.putFile('just/fits', handle, { maxBytes: 5 * 1024 * 1024 });
        assert.equal(exact.size, 5 * 1024 * 1024);
      } finally {
        await handle.close();
      }
      assert.deepEqual(await keysOf(store, ''), ['just/fits']);
    });

    withStore('downloading an absent object into a file is null and makes no file', async (store, files) => {
      const into = join(files, 'none');
      assert.equal(await store.getToFile('runs/9/none', into), null);
      assert.equal(existsSync(into), false);
    });

    withStore('unsafe keys are refused before the store is touched', async (store) => {
      for (const key of ['../secret.key', '/etc/passwd', 'a/../../b', '..%2f..%2fsecret.key', 'a//b']) {
        await assert.rejects(store.put(key, Readable.from([Buffer.from('x')])), InvalidArtifactKeyError, key);
        await assert.rejects(async () => store.get(key), InvalidArtifactKeyError, key);
        await assert.rejects(async () => store.getToFile(key, '/nonexistent/never'), InvalidArtifactKeyError, key);
        await assert.rejects(async () => store.delete(key), InvalidArtifactKeyError, key);
      }
      await assert.rejects(async () => {
        for await (const _ of store.list('../')) void _;
      }, InvalidArtifactKeyError);
      assert.deepEqual(await keysOf(store, ''), []);
    });
  });
}
