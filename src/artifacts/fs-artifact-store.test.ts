/** The filesystem adapter passes the contract; plus what only a folder can suffer (links, leftovers). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
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
