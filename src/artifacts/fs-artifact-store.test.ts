/** The filesystem adapter passes the contract; plus what only a folder can suffer (links, leftovers). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, symlink, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer, text } from 'node:stream/consumers';
import { createHash, randomBytes } from 'node:crypto';
import { artifactStoreContract } from './artifact-store-contract.js';
import { FsArtifactStore } from './fs-artifact-store.js';

artifactStoreContract('filesystem', async () => {
  const root = await mkdtemp(join(tmpdir(), 'ansflow-artifacts-'));
  return { store: new FsArtifactStore(join(root, 'artifacts')), dispose: () => rm(root, { recursive: true, force: true }) };
});

test('filesystem store: links inside the folder are never followed, and failed puts leave no temporary file', async () => {
  const root = await mkdtemp(join(tmpdir(), 'ansflow-artifacts-'));
  try {
    const store = new FsArtifactStore(join(root, 'store'));
    await mkdir(join(root, 'store', 'runs'), { recursive: true });
    await writeFile(join(root, 'outside'), 'secret');
    await symlink(join(root, 'outside'), join(root, 'store', 'runs', 'link'));
    await symlink(root, join(root, 'store', 'runs', 'dirlink'));
    const listed: string[] = [];
    for await (const object of store.list('')) listed.push(object.key);
    assert.deepEqual(listed, [], 'links are not objects');
    const broken = new Readable({
      read() {
        this.destroy(new Error('boom'));
      },
    });
    await assert.rejects(store.put('runs/x', broken), /storing runs\/x in .* failed: boom/);
    assert.deepEqual((await readdir(join(root, 'store', 'runs'))).sort(), ['dirlink', 'link']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('filesystem store: a put of many uneven chunks keeps every byte and its SHA-256; one failing midway leaves nothing', async () => {
  const root = await mkdtemp(join(tmpdir(), 'ansflow-artifacts-'));
  try {
    const store = new FsArtifactStore(join(root, 'store'));
    // 40 MiB in uneven chunks, as a transform in front of the store passes them on.
    const chunks = Array.from({ length: 41 }, (_, i) => randomBytes(i === 40 ? 12_345 : 1024 * 1024 - i));
    const whole = Buffer.concat(chunks);
    const stored = await store.put('runs/1/big', Readable.from(chunks));
    assert.equal(stored.size, whole.length);
    assert.equal(stored.sha256, createHash('sha256').update(whole).digest('hex'));
    assert.ok(whole.equals(await buffer((await store.get('runs/1/big'))!)));

    async function* failing() {
      yield chunks[0]!;
      yield chunks[1]!;
      throw new Error('the step went away');
    }
    await assert.rejects(store.put('runs/1/half', Readable.from(failing())), /storing runs\/1\/half in .* failed: the step went away/);
    assert.equal(await store.stat('runs/1/half'), null);
    assert.deepEqual((await readdir(join(root, 'store', 'runs', '1'))).sort(), ['big'], 'no temporary file is left');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

/** A handle that records whether its descriptor was taken (the kernel copy opens it again) and may act on each read. */
function watched(handle: FileHandle, onRead: () => void = () => undefined) {
  const seen = { fd: false };
  const file = {
    get fd() {
      seen.fd = true;
      return handle.fd;
    },
    stat: handle.stat.bind(handle),
    read: (...args: Parameters<FileHandle['read']>) => {
      onRead();
      return handle.read(...args);
    },
  } as unknown as FileHandle;
  return { file, seen };
}

test("filesystem store: a large settled file is copied by the kernel into the store with the store's mode, not the file's", async () => {
  const root = await mkdtemp(join(tmpdir(), 'ansflow-artifacts-'));
  try {
    const store = new FsArtifactStore(join(root, 'store'));
    const data = randomBytes(6 * 1024 * 1024 + 5);
    const path = join(root, 'tool');
    await writeFile(path, data, { mode: 0o755 });
    const past = new Date(Date.now() - 60_000);
    await utimes(path, past, past);
    const handle = await open(path, 'r');
    try {
      const { file, seen } = watched(handle);
      const stored = await store.putFile('runs/1/tool', file);
      assert.equal(seen.fd, true, 'the kernel copy was tried');
      assert.equal(stored.sha256, createHash('sha256').update(data).digest('hex'));
    } finally {
      await handle.close();
    }
    assert.equal((await stat(join(root, 'store', 'runs', '1', 'tool'))).mode & 0o777, 0o640);
    assert.ok(data.equals(await readFile(join(root, 'store', 'runs', '1', 'tool'))));
    assert.deepEqual(await readdir(join(root, 'store', 'runs', '1')), ['tool'], 'no temporary file is left');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('filesystem store: a file that changes while it is copied is stored as read in one pass, its bytes and SHA-256 agreeing', async () => {
  const root = await mkdtemp(join(tmpdir(), 'ansflow-artifacts-'));
  try {
    const store = new FsArtifactStore(join(root, 'store'));
    const first = randomBytes(8 * 1024 * 1024);
    const more = randomBytes(3 * 1024 * 1024);
    const path = join(root, 'growing.log');
    await writeFile(path, first);
    const past = new Date(Date.now() - 60_000);
    await utimes(path, past, past);
    const handle = await open(path, 'r');
    try {
      // The step's leftover process appends as the store starts reading (the kernel copy is under way).
      let appended = false;
      const { file, seen } = watched(handle, () => {
        if (!appended) appendFileSync(path, more);
        appended = true;
      });
      const stored = await store.putFile('runs/1/log', file);
      assert.equal(seen.fd, true, 'the kernel copy was tried');
      const whole = Buffer.concat([first, more]);
      assert.deepEqual(stored, { key: 'runs/1/log', size: whole.length, sha256: createHash('sha256').update(whole).digest('hex') });
    } finally {
      await handle.close();
    }
    const kept = await readFile(join(root, 'store', 'runs', '1', 'log'));
    assert.equal(kept.length, first.length + more.length);
    assert.deepEqual(await readdir(join(root, 'store', 'runs', '1')), ['log'], 'no temporary file is left');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('filesystem store: temporary files a dead put left are swept once old; objects and recent ones stay', async () => {
  const root = await mkdtemp(join(tmpdir(), 'ansflow-artifacts-'));
  try {
    const store = new FsArtifactStore(join(root, 'store'));
    await store.put('runs/1/a', Readable.from([Buffer.from('kept')]));
    const dir = join(root, 'store', 'runs', '1');
    await writeFile(join(dir, '.put-0123456789abcdef'), 'half of a crashed put');
    await writeFile(join(root, 'store', '.put-fedcba9876543210'), 'another');
    await writeFile(join(dir, '.put-00000000000000aa'), 'a put under way');
    const old = new Date(Date.now() - 2 * 3600_000);
    await utimes(join(dir, '.put-0123456789abcdef'), old, old);
    await utimes(join(root, 'store', '.put-fedcba9876543210'), old, old);
    assert.equal(await store.sweepTemporary(3600_000), 2);
    assert.deepEqual((await readdir(dir)).sort(), ['.put-00000000000000aa', 'a']);
    assert.deepEqual(await readdir(join(root, 'store')), ['runs']);
    assert.equal(await text((await store.get('runs/1/a'))!), 'kept');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
