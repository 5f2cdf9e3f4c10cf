/**
 * Collecting an artifact from a workspace a hostile step wrote: links that point at /etc/passwd or
 * another run's folder, globs that climb, files over the limit, a store that fails halfway.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { FsArtifactStore } from '../../artifacts/fs-artifact-store.js';
import type { ArtifactStore } from '../../artifacts/artifact-store.js';
import { ArtifactLimitError, collectArtifact, type ArtifactRequest } from './collect-artifact.js';

async function setting() {
  const root = await mkdtemp(join(tmpdir(), 'ansflow-collect-'));
  const workspace = join(root, 'run-1');
  const otherRun = join(root, 'run-2');
  await mkdir(join(workspace, 'dist', 'sub'), { recursive: true });
  await mkdir(otherRun);
  await writeFile(join(otherRun, 'secret.txt'), 'not yours');
  await writeFile(join(workspace, 'dist', 'app.js'), 'console.log(1)\n');
  await writeFile(join(workspace, 'dist', 'sub', 'app.js.map'), '{}');
  await writeFile(join(workspace, 'dist', '.hidden'), 'h');
  await writeFile(join(workspace, 'README.md'), '# r');
  const store = new FsArtifactStore(join(root, 'store'));
  return { root, workspace, otherRun, store, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Collects into the setting's store (or `store`) under runs/1/artifacts/1. */
const collect = (s: Awaited<ReturnType<typeof setting>>, request: Pick<ArtifactRequest, 'name' | 'paths' | 'maxBytes'> & Partial<ArtifactRequest>) =>
  collectArtifact({ workspace: s.workspace, store: s.store, keyPrefix: 'runs/1/artifacts/1', ...request });

const keys = async (store: ArtifactStore) => {
  const out: string[] = [];
  for await (const o of store.list('')) out.push(o.key);
  return out.sort();
};

test('matching files are stored with size and SHA-256, keyed by position; hidden files need an explicit glob', async () => {
  const s = await setting();
  try {
    const result = await collect(s, { name: 'dist', paths: ['dist/**'], maxBytes: 1 << 20 });
    assert.deepEqual(
      result.files.map((f) => [f.path, f.size, f.key]),
      [
        ['dist/app.js', 15, 'runs/1/artifacts/1/0'],
        ['dist/sub/app.js.map', 2, 'runs/1/artifacts/1/1'],
      ],
    );
    assert.equal(result.files[0]!.sha256, createHash('sha256').update('console.log(1)\n').digest('hex'));
    assert.equal(await text((await s.store.get('runs/1/artifacts/1/0'))!), 'console.log(1)\n');
    assert.equal(result.bytes, 17);
    assert.deepEqual(result.refused, []);
    const hidden = await collect(s, { name: 'h', paths: ['dist/.hidden'], keyPrefix: 'runs/1/artifacts/2', maxBytes: 100 });
    assert.deepEqual(
      hidden.files.map((f) => f.path),
      ['dist/.hidden'],
    );
  } finally {
    await s.cleanup();
  }
});

test('links to /etc/passwd, to another run and to a folder are refused and recorded, never followed', async () => {
  const s = await setting();
  try {
    await symlink('/etc/passwd', join(s.workspace, 'dist', 'passwd'));
    await symlink(join(s.otherRun, 'secret.txt'), join(s.workspace, 'dist', 'steal.txt'));
    await symlink(s.otherRun, join(s.workspace, 'dist', 'other-run'));
    const result = await collect(s, { name: 'dist', paths: ['dist/**'], maxBytes: 1 << 20 });
    assert.deepEqual(
      result.files.map((f) => f.path),
      ['dist/app.js', 'dist/sub/app.js.map'],
    );
    assert.deepEqual(result.refused.map((r) => r.path).sort(), ['dist/other-run', 'dist/passwd', 'dist/steal.txt']);
    assert.ok(result.refused.every((r) => /symbolic link \(not followed\)/.test(r.reason)));
    for (const key of await keys(s.store)) assert.doesNotMatch(await text((await s.store.get(key))!), /root:|not yours/);
  } finally {
    await s.cleanup();
  }
});

test('globs that climb out or are absolute are refused before anything is read', async () => {
  const s = await setting();
  try {
    for (const glob of ['../run-2/**', '/etc/passwd', 'dist/../../run-2/secret.txt']) {
      await assert.rejects(collect(s, { name: 'x', paths: [glob], maxBytes: 1 << 20 }), /artifact "x": .*(climbs out|absolute)/);
    }
    assert.deepEqual(await keys(s.store), []);
  } finally {
    await s.cleanup();
  }
});

test('an artifact over its limit stores nothing and says by how much', async () => {
  const s = await setting();
  try {
    await writeFile(join(s.workspace, 'dist', 'big.bin'), Buffer.alloc(4096));
    await assert.rejects(collect(s, { name: 'dist', paths: ['dist/**'], maxBytes: 1024 }), (error: Error) => {
      assert.ok(error instanceof ArtifactLimitError);
      assert.match(error.message, /artifact "dist" holds 4 KiB, over its limit of 1 KiB; nothing was stored/);
      return true;
    });
    assert.deepEqual(await keys(s.store), []);
  } finally {
    await s.cleanup();
  }
});

test('a store failing halfway leaves nothing of the artifact behind', async () => {
  const s = await setting();
  try {
    let puts = 0;
    const flaky: ArtifactStore = Object.assign(Object.create(s.store) as ArtifactStore, {
      putFile: async (key: string, file: FileHandle) => {
        puts += 1;
        if (puts === 2) throw new Error('store went away');
        return s.store.putFile(key, file);
      },
    });
    await assert.rejects(collect(s, { name: 'dist', paths: ['dist/**'], store: flaky, maxBytes: 1 << 20 }), /store went away/);
    assert.deepEqual(await keys(s.store), [], 'the first file was removed again');
  } finally {
    await s.cleanup();
  }
});

test('no match is an empty artifact, not an error', async () => {
  const s = await setting();
  try {
    const result = await collect(s, { name: 'none', paths: ['target/*.jar'], maxBytes: 10 });
    assert.deepEqual(result, { files: [], refused: [], bytes: 0 });
  } finally {
    await s.cleanup();
  }
});
