/** The filesystem adapter passes the contract; plus what only a folder can suffer (links, leftovers). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
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
