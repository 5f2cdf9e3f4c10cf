/**
 * Incremental workspace snapshots: the first of a run holds the whole workspace, later ones only
 * what changed (new, rewritten, chmod'ed, renamed), and restoring the newest rebuilds the workspace
 * exactly, deleted paths and kind changes (file ⇄ folder) included; a step that changed nothing
 * stores nothing (its snapshot is the previous object); a missing base or a manifest
 * naming another run's snapshot fails the restore, and a whole snapshot without a manifest (as
 * stored before deltas) still restores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, lstatSync, readlinkSync, rmSync, symlinkSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import * as tar from 'tar';
import { FsArtifactStore } from '../../artifacts/fs-artifact-store.js';
import type { ArtifactStore } from '../../artifacts/artifact-store.js';
import { SnapshotChain, manifestKeyOf, restoreWorkspaceSnapshot, snapshotRestorable } from './workspace-snapshot.js';
import { packCache } from './cache-archive.js';

/** A window ending in the future: no change counts as too recent (the default would re-archive everything written here). */
const NEVER_RACY = -(10n ** 9n);

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'ansflow-snapshot-'));
  const ws = join(root, 'ws');
  mkdirSync(ws);
  const store = new FsArtifactStore(join(root, 'store'));
  return { root, ws, store, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** The member names of a stored snapshot archive. */
async function members(store: ArtifactStore, key: string): Promise<string[]> {
  const names: string[] = [];
  const parser = new tar.Parser({ onReadEntry: (e) => (names.push(e.path), e.resume()) });
  const body = (await store.get(key))!;
  await new Promise<void>((resolve, reject) => {
    parser.on('end', () => resolve());
    parser.on('error', reject);
    body.pipe(parser as unknown as NodeJS.WritableStream);
  });
  return names.sort();
}

/** Every path under `dir` with what it is: file content, link target, or a folder. */
function describe(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    const info = lstatSync(full);
    if (info.isSymbolicLink()) out[`${prefix}${name}`] = `-> ${readlinkSync(full)}`;
    else if (info.isDirectory()) {
      out[`${prefix}${name}/`] = 'dir';
      Object.assign(out, describe(full, `${prefix}${name}/`));
    } else out[`${prefix}${name}`] = `${readFileSync(full, 'utf8')} (${(info.mode & 0o777).toString(8)})`;
  }
  return out;
}

test('the first snapshot is whole, the next ones hold only what changed, and each restores its own workspace', async () => {
  const t = setup();
  try {
    const chain = new SnapshotChain(NEVER_RACY);
    mkdirSync(join(t.ws, 'src', 'deep'), { recursive: true });
    writeFileSync(join(t.ws, 'src', 'a.txt'), 'a1');
    writeFileSync(join(t.ws, 'src', 'deep', 'b.txt'), 'b1');
    writeFileSync(join(t.ws, 'kept.txt'), 'kept');
    writeFileSync(join(t.ws, 'becomes-dir'), 'file');
    mkdirSync(join(t.ws, 'becomes-file'));
    writeFileSync(join(t.ws, 'becomes-file', 'inner.txt'), 'inner');
    symlinkSync('kept.txt', join(t.ws, 'link'));
    mkdirSync(join(t.ws, 'untouched'));
    writeFileSync(join(t.ws, 'untouched', 'u.txt'), 'u');
    assert.ok('stored' in (await chain.take(t.store, t.ws, 'runs/9/snapshots/s1.tgz', 1 << 20)));
    const first = describe(t.ws);
    assert.deepEqual(await members(t.store, 'runs/9/snapshots/s1.tgz'), Object.keys(first).sort());
    assert.equal(JSON.parse(await text((await t.store.get(manifestKeyOf('runs/9/snapshots/s1.tgz')))!)).base, null);

    // The next step: rewrites one file, adds one, deletes one, renames one, chmods one, and turns a
    // file into a folder and a folder into a file.
    writeFileSync(join(t.ws, 'src', 'a.txt'), 'a2');
    writeFileSync(join(t.ws, 'src', 'new.txt'), 'new');
    rmSync(join(t.ws, 'src', 'deep', 'b.txt'));
    renameSync(join(t.ws, 'kept.txt'), join(t.ws, 'renamed.txt'));
    writeFileSync(join(t.ws, 'kept.txt'), 'kept');
    chmodSync(join(t.ws, 'renamed.txt'), 0o600);
    rmSync(join(t.ws, 'becomes-dir'));
    mkdirSync(join(t.ws, 'becomes-dir'));
    writeFileSync(join(t.ws, 'becomes-dir', 'x.txt'), 'x');
    rmSync(join(t.ws, 'becomes-file'), { recursive: true });
    writeFileSync(join(t.ws, 'becomes-file'), 'now a file');
    assert.ok('stored' in (await chain.take(t.store, t.ws, 'runs/9/snapshots/s2.tgz', 1 << 20)));
    const second = describe(t.ws);
    const delta = await members(t.store, 'runs/9/snapshots/s2.tgz');
    for (const unchanged of ['link', 'untouched/', 'untouched/u.txt'])
      assert.ok(!delta.includes(unchanged), `${unchanged} is not in the delta: ${delta.join(', ')}`);
    for (const changed of ['src/deep/', 'src/a.txt', 'src/new.txt', 'renamed.txt', 'kept.txt', 'becomes-dir/', 'becomes-dir/x.txt', 'becomes-file'])
      assert.ok(delta.includes(changed), `${changed} is in the delta: ${delta.join(', ')}`);
    assert.equal(JSON.parse(await text((await t.store.get(manifestKeyOf('runs/9/snapshots/s2.tgz')))!)).base, 'runs/9/snapshots/s1.tgz');

    // Nothing changed: no delta; the step's snapshot is the previous one's object.
    const unchanged = await chain.stage(t.ws, 'runs/9/snapshots/s3.tgz', 1 << 20);
    assert.ok(!('over' in unchanged));
    assert.equal(await chain.publish(t.store, unchanged), 0);
    assert.equal(unchanged.key, 'runs/9/snapshots/s2.tgz');
    assert.equal(await t.store.stat('runs/9/snapshots/s3.tgz'), null);

    for (const [key, expected] of [
      ['runs/9/snapshots/s1.tgz', first],
      ['runs/9/snapshots/s2.tgz', second],
      [unchanged.key, second],
    ] as const) {
      const target = mkdtempSync(join(t.root, 'restored-'));
      await restoreWorkspaceSnapshot(t.store, key, target);
      assert.deepEqual(describe(target), expected, key);
    }
  } finally {
    t.cleanup();
  }
});

test('a snapshot over the limit stores nothing, and the one after it is whole again', async () => {
  const t = setup();
  try {
    const chain = new SnapshotChain(NEVER_RACY);
    writeFileSync(join(t.ws, 'a.txt'), 'aaaa');
    await chain.take(t.store, t.ws, 'runs/9/snapshots/s1.tgz', 100);
    writeFileSync(join(t.ws, 'big.bin'), Buffer.alloc(200));
    assert.deepEqual(await chain.take(t.store, t.ws, 'runs/9/snapshots/s2.tgz', 100), { over: 204 });
    assert.equal(await t.store.stat('runs/9/snapshots/s2.tgz'), null);
    rmSync(join(t.ws, 'big.bin'));
    await chain.take(t.store, t.ws, 'runs/9/snapshots/s3.tgz', 100);
    assert.deepEqual(await members(t.store, 'runs/9/snapshots/s3.tgz'), ['a.txt']);
    assert.equal(JSON.parse(await text((await t.store.get(manifestKeyOf('runs/9/snapshots/s3.tgz')))!)).base, null);
  } finally {
    t.cleanup();
  }
});

test('a change written just before the snapshot is archived again by the next one (its ctime could repeat)', async () => {
  const t = setup();
  try {
    const chain = new SnapshotChain(); // the default window: everything here was written just now
    writeFileSync(join(t.ws, 'a.txt'), 'a');
    await chain.take(t.store, t.ws, 'runs/9/snapshots/s1.tgz', 1 << 20);
    await chain.take(t.store, t.ws, 'runs/9/snapshots/s2.tgz', 1 << 20);
    assert.deepEqual(await members(t.store, 'runs/9/snapshots/s2.tgz'), ['a.txt']);
  } finally {
    t.cleanup();
  }
});

test('a restore fails when a base of the chain is gone, or a manifest names a snapshot of another run', async () => {
  const t = setup();
  try {
    const chain = new SnapshotChain(NEVER_RACY);
    writeFileSync(join(t.ws, 'a.txt'), 'a');
    await chain.take(t.store, t.ws, 'runs/9/snapshots/s1.tgz', 1 << 20);
    writeFileSync(join(t.ws, 'b.txt'), 'b');
    await chain.take(t.store, t.ws, 'runs/9/snapshots/s2.tgz', 1 << 20);
    assert.equal(await snapshotRestorable(t.store, 'runs/9/snapshots/s2.tgz'), true);
    await t.store.delete('runs/9/snapshots/s1.tgz');
    assert.equal(await snapshotRestorable(t.store, 'runs/9/snapshots/s2.tgz'), false, 'its base is gone');
    await assert.rejects(
      restoreWorkspaceSnapshot(t.store, 'runs/9/snapshots/s2.tgz', mkdtempSync(join(t.root, 'r-'))),
      /runs\/9\/snapshots\/s1\.tgz is not in/,
    );
    await t.store.delete(manifestKeyOf('runs/9/snapshots/s1.tgz'));
    await assert.rejects(
      restoreWorkspaceSnapshot(t.store, 'runs/9/snapshots/s2.tgz', mkdtempSync(join(t.root, 'r-'))),
      /manifest of the workspace snapshot runs\/9\/snapshots\/s1\.tgz is not in/,
    );
    const forged = JSON.stringify({ base: 'runs/8/snapshots/s1.tgz', entries: ['b.txt'] });
    await t.store.put(manifestKeyOf('runs/9/snapshots/s2.tgz'), Readable.from([Buffer.from(forged)]));
    await assert.rejects(restoreWorkspaceSnapshot(t.store, 'runs/9/snapshots/s2.tgz', mkdtempSync(join(t.root, 'r-'))), /names a base outside its run/);
    assert.equal(await snapshotRestorable(t.store, 'runs/9/snapshots/s2.tgz'), false, 'a base of another run');
  } finally {
    t.cleanup();
  }
});

test('a whole snapshot without a manifest (stored before deltas) restores alone', async () => {
  const t = setup();
  try {
    writeFileSync(join(t.ws, 'a.txt'), 'a');
    const { stream } = await packCache(t.ws, ['**']);
    await t.store.put('runs/9/snapshots/s1.tgz', stream);
    const target = mkdtempSync(join(t.root, 'r-'));
    assert.equal(await snapshotRestorable(t.store, 'runs/9/snapshots/s1.tgz'), true);
    await restoreWorkspaceSnapshot(t.store, 'runs/9/snapshots/s1.tgz', target);
    assert.equal(readFileSync(join(target, 'a.txt'), 'utf8'), 'a');
  } finally {
    t.cleanup();
  }
});

test('a step that changed nothing stores nothing: its snapshot is the previous object, and a removal after it is a delta again', async () => {
  const { ws, store, cleanup } = setup();
  try {
    const chain = new SnapshotChain(NEVER_RACY);
    writeFileSync(join(ws, 'a.txt'), 'one');
    mkdirSync(join(ws, 'dir'));
    writeFileSync(join(ws, 'dir', 'b.txt'), 'two');
    const limit = 1024 ** 3;
    const first = await chain.stage(ws, 'runs/1/snapshots/s1.tgz', limit);
    assert.ok(!('over' in first));
    await chain.publish(store, first);
    const objects = async () => {
      const keys: string[] = [];
      for await (const o of store.list('runs/1/')) keys.push(o.key);
      return keys.sort();
    };
    const afterFirst = await objects();

    const same = await chain.stage(ws, 'runs/1/snapshots/s2.tgz', limit);
    assert.ok(!('over' in same));
    assert.equal(same.key, 'runs/1/snapshots/s1.tgz', 'the unchanged workspace is the first snapshot');
    assert.equal(same.unchanged, true);
    assert.equal(await chain.publish(store, same), 0);
    assert.deepEqual(await objects(), afterFirst, 'no object stored for it');

    // A removal changes no remaining entry but is a change: a delta of its own, built on s1.
    rmSync(join(ws, 'dir', 'b.txt'));
    const third = await chain.stage(ws, 'runs/1/snapshots/s3.tgz', limit);
    assert.ok(!('over' in third));
    assert.equal(third.key, 'runs/1/snapshots/s3.tgz');
    assert.equal(third.unchanged, undefined);
    assert.equal(third.manifest.base, 'runs/1/snapshots/s1.tgz');
    await chain.publish(store, third);

    const restored = join(ws, '..', 'restored');
    mkdirSync(restored);
    await restoreWorkspaceSnapshot(store, 'runs/1/snapshots/s3.tgz', restored);
    assert.deepEqual(describe(restored), describe(ws));
    const again = join(ws, '..', 'restored-s2');
    mkdirSync(again);
    await restoreWorkspaceSnapshot(store, same.key, again);
    assert.equal(readFileSync(join(again, 'dir', 'b.txt'), 'utf8'), 'two', "step 2's snapshot restores the workspace as step 2 left it");
  } finally {
    cleanup();
  }
});

test('an unchanged snapshot of a base that could not be stored fails too', async () => {
  const { ws, store, cleanup } = setup();
  try {
    const chain = new SnapshotChain(NEVER_RACY);
    writeFileSync(join(ws, 'a.txt'), 'one');
    const failing: ArtifactStore = Object.assign(Object.create(store) as ArtifactStore, {
      put: async () => {
        throw new Error('disk full');
      },
      delete: async () => undefined,
    });
    const first = await chain.stage(ws, 'runs/2/snapshots/s1.tgz', 1024 ** 3);
    assert.ok(!('over' in first));
    await assert.rejects(chain.publish(failing, first), /disk full/);
    // The failed base is nobody's base: the next snapshot is whole, not an alias of it.
    const next = await chain.stage(ws, 'runs/2/snapshots/s2.tgz', 1024 ** 3);
    assert.ok(!('over' in next));
    assert.equal(next.unchanged, undefined);
    assert.equal(next.manifest.base, null);
  } finally {
    cleanup();
  }
});
