import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  lutimesSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTempDir } from '../../test/support/git-fixtures.js';
import { createWorkspace, linkSlot, makeSlot, removeWorkspace, resolveInside, stagingFolder, sweepWorkspaces } from './workspace.js';

test('creates run-<id> fresh (leftovers of an earlier attempt are gone) with a HOME beside it', async () => {
  const tmp = makeTempDir('ansflow-ws-');
  try {
    const first = await createWorkspace(tmp.path, 42);
    writeFileSync(join(first.path, 'leftover'), 'x');
    const again = await createWorkspace(tmp.path, 42);
    assert.equal(again.path, join(tmp.path, 'run-42'));
    assert.equal(again.home, join(tmp.path, 'run-42.home'));
    assert.equal(existsSync(join(again.path, 'leftover')), false);
    const other = await createWorkspace(tmp.path, 43);
    assert.notEqual(other.path, again.path);
  } finally {
    tmp.cleanup();
  }
});

test('resolveInside refuses .., absolute paths and symlink escapes, also for paths that do not exist yet', async () => {
  const tmp = makeTempDir('ansflow-ws-');
  try {
    const ws = await createWorkspace(tmp.path, 1);
    symlinkSync('/etc', join(ws.path, 'etc-link'));
    mkdirSync(join(ws.path, 'real'));
    symlinkSync(join(ws.path, 'real'), join(ws.path, 'inner-link'));
    for (const bad of ['../x', '../../etc', '/etc', 'a/../../b', 'etc-link', 'etc-link/new/dir', '-x'])
      await assert.rejects(resolveInside(ws.path, bad), { name: 'WorkspacePathError' }, bad);
    assert.equal(await resolveInside(ws.path, 'inner-link/new'), join(ws.path, 'real', 'new'));
    assert.equal(await resolveInside(ws.path, 'sub/dir'), join(ws.path, 'sub', 'dir'));
    assert.equal(await resolveInside(ws.path, '.'), ws.path);
  } finally {
    tmp.cleanup();
  }
});

test('removeWorkspace deletes the workspace and its HOME, even with read-only folders inside', async () => {
  const tmp = makeTempDir('ansflow-ws-');
  try {
    const ws = await createWorkspace(tmp.path, 5);
    mkdirSync(join(ws.path, 'ro'));
    writeFileSync(join(ws.path, 'ro', 'f'), 'x');
    chmodSync(join(ws.path, 'ro'), 0o500);
    await removeWorkspace(tmp.path, 5);
    assert.equal(existsSync(ws.path), false);
    assert.equal(existsSync(ws.home), false);
  } finally {
    tmp.cleanup();
  }
});

test('sweepWorkspaces removes old workspaces, keeps recent ones, active runs and unrelated folders', async () => {
  const tmp = makeTempDir('ansflow-ws-');
  try {
    const old = new Date(Date.now() - 3 * 3600_000);
    for (const id of [1, 2, 3]) {
      const ws = await createWorkspace(tmp.path, id);
      if (id !== 3) {
        utimesSync(ws.path, old, old);
        utimesSync(ws.home, old, old);
      }
    }
    mkdirSync(join(tmp.path, 'not-a-run'));
    utimesSync(join(tmp.path, 'not-a-run'), old, old);
    const removed = await sweepWorkspaces(tmp.path, 3600_000, [2]);
    assert.deepEqual(removed, [1]);
    assert.equal(existsSync(join(tmp.path, 'run-1')), false);
    assert.equal(existsSync(join(tmp.path, 'run-1.home')), false);
    assert.ok(existsSync(join(tmp.path, 'run-2')));
    assert.ok(existsSync(join(tmp.path, 'run-3')));
    assert.ok(existsSync(join(tmp.path, 'not-a-run')));
  } finally {
    tmp.cleanup();
  }
});

test("sweepWorkspaces removes staging folders a crash left beside workspaces and in slots, once old, never an active run's", async () => {
  const root = mkdtempSync(join(tmpdir(), 'ansflow-ws-'));
  try {
    const old = new Date(Date.now() - 2 * 3600_000);
    const plain = await createWorkspace(root, 1);
    await createWorkspace(root, 2);
    const slot = await makeSlot(root);
    await linkSlot(root, 3, slot);
    const activeSlot = await makeSlot(root);
    await linkSlot(root, 4, activeSlot);
    const staged = {
      crashedExtract: await stagingFolder(plain.path, 'extract'),
      crashedSnapshot: await stagingFolder(join(root, 'run-2'), 'snapshot'),
      inSlot: await stagingFolder(slot.workspace, 'snapshot'),
      legacy: join(root, '.extract-AbC123'),
      recent: await stagingFolder(plain.path, 'snapshot'),
      activeRun: await stagingFolder(join(root, 'run-4'), 'extract'),
      activeSlot: await stagingFolder(activeSlot.workspace, 'extract'),
    };
    mkdirSync(staged.legacy);
    for (const [name, dir] of Object.entries(staged)) {
      writeFileSync(join(dir, 'member'), 'x');
      if (name !== 'recent') utimesSync(dir, old, old);
    }
    assert.match(staged.crashedExtract, /\/run-1\.extract-[A-Za-z0-9]+$/);
    assert.match(staged.inSlot, /\/sandbox-[0-9a-f]+\/workspace\.snapshot-[A-Za-z0-9]+$/);
    // Workspaces themselves are recent: only staging goes. Run 4 is active here.
    assert.deepEqual(await sweepWorkspaces(root, 24 * 3600_000, [4]), []);
    const left = Object.fromEntries(Object.entries(staged).map(([name, dir]) => [name, existsSync(dir)]));
    assert.deepEqual(left, {
      crashedExtract: false,
      crashedSnapshot: false,
      inSlot: false,
      legacy: false,
      recent: true,
      activeRun: true,
      activeSlot: true,
    });
    for (const id of [1, 2, 3, 4]) assert.ok(existsSync(join(root, `run-${id}`)), `run-${id} stays`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a sandbox slot is linked as run-<id>; removing the run removes the slot, never what a foreign link points to', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ansflow-ws-'));
  try {
    const slot = await makeSlot(root);
    await linkSlot(root, 7, slot);
    writeFileSync(join(root, 'run-7', 'file'), 'x');
    assert.equal(readFileSync(join(slot.workspace, 'file'), 'utf8'), 'x', 'run-7 is the slot workspace');
    assert.equal(realpathSync(join(root, 'run-7.home')), slot.home);
    // A second attempt of the same run gets a fresh slot; the first is removed.
    const again = await makeSlot(root);
    await linkSlot(root, 7, again);
    assert.equal(existsSync(slot.dir), false);
    await removeWorkspace(root, 7);
    assert.equal(existsSync(again.dir), false);
    assert.equal(existsSync(join(root, 'run-7')), false);

    const outside = mkdtempSync(join(tmpdir(), 'ansflow-outside-'));
    symlinkSync(outside, join(root, 'run-8'));
    await removeWorkspace(root, 8);
    assert.equal(existsSync(outside), true, 'a link to elsewhere is removed, not followed');
    rmSync(outside, { recursive: true });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the sweeper removes old runs through their links, and slots no run links to once they are old', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ansflow-ws-'));
  try {
    const used = await makeSlot(root);
    await linkSlot(root, 1, used);
    const orphan = await makeSlot(root);
    const fresh = await makeSlot(root);
    const old = new Date(Date.now() - 3 * 3600 * 1000);
    for (const path of [join(root, 'run-1'), join(root, 'run-1.home')]) lutimesSync(path, old, old);
    utimesSync(orphan.dir, old, old);
    const removed = await sweepWorkspaces(root, 3600 * 1000, []);
    assert.deepEqual(removed, [1]);
    assert.equal(existsSync(used.dir), false);
    assert.equal(existsSync(orphan.dir), false, 'an old slot nobody links to');
    assert.equal(existsSync(fresh.dir), true, 'a warm slot of a live process');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
