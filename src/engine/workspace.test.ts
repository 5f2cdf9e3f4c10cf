import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../../test/support/git-fixtures.js';
import { createWorkspace, removeWorkspace, resolveInside, sweepWorkspaces } from './workspace.js';

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
