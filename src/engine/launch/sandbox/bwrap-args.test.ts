import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bwrapArgs, hiddenInOrder, isWithin, type BwrapInput } from './bwrap-args.js';

const input = (over: Partial<BwrapInput['mounts']> = {}, privileges: BwrapInput['privileges'] = { mode: 'setuid' }): BwrapInput => ({
  mounts: {
    hiddenDirs: ['/root', '/srv/data'],
    hiddenFiles: ['/srv/app/.env'],
    revealed: [],
    readOnly: [],
    writable: ['/srv/data/workspaces/run-1', '/srv/data/workspaces/run-1.home'],
    runKeep: [],
    ...over,
  },
  privileges,
  tmpBytes: 1024,
  cwd: '/srv/data/workspaces/run-1',
});

/** The index of a flag followed by these values. */
function at(args: string[], ...seq: string[]): number {
  for (let i = 0; i < args.length; i++) if (seq.every((s, j) => args[i + j] === s)) return i;
  return -1;
}

test('the host is read-only, /tmp private, and the platform folders are emptied before the run binds its own', () => {
  const args = bwrapArgs(input());
  assert.deepEqual(args.slice(0, 3), ['--ro-bind', '/', '/']);
  assert.ok(at(args, '--tmpfs', '/tmp') > 0 && at(args, '--tmpfs', '/run') > 0);
  const hidden = at(args, '--tmpfs', '/srv/data');
  const bound = at(args, '--bind', '/srv/data/workspaces/run-1', '/srv/data/workspaces/run-1');
  assert.ok(hidden > 0 && bound > hidden, 'the workspace is bound after its parent is hidden');
  assert.ok(at(args, '--ro-bind', '/dev/null', '/srv/app/.env') > 0, 'secret files are covered');
  // The mount point's parent is made walkable for the step's user.
  assert.ok(at(args, '--perms', '0755', '--dir', '/srv/data/workspaces') > hidden);
  assert.ok(at(args, '--perms', '0755', '--dir', '/srv/data/workspaces') < bound);
  for (const ns of ['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent']) assert.ok(args.includes(ns), ns);
  assert.ok(!args.includes('--unshare-net'), 'the network stays (git and ansible need it)');
  assert.deepEqual(args.slice(-2), ['--chdir', '/srv/data/workspaces/run-1']);
});

test('a folder revealed inside a hidden one does not bring back what is hidden inside it', () => {
  const args = bwrapArgs(input({ hiddenDirs: ['/root', '/root/app/data'], revealed: ['/root/app'], writable: ['/root/app/data/workspaces/run-1'] }));
  const hideData = args.lastIndexOf('/root/app/data');
  const reveal = at(args, '--ro-bind', '/root/app', '/root/app');
  assert.ok(reveal > at(args, '--tmpfs', '/root'));
  assert.equal(args[hideData - 1], '--tmpfs');
  assert.ok(hideData > reveal, 'the data folder is hidden again after the app is shown');
  assert.ok(at(args, '--bind', '/root/app/data/workspaces/run-1', '/root/app/data/workspaces/run-1') > hideData);
});

test('as root, no user namespace (setpriv drops to the step user); otherwise the user is mapped to itself', () => {
  assert.ok(!bwrapArgs(input()).includes('--unshare-user'));
  const mapped = bwrapArgs(input({}, { mode: 'user-namespace', identity: { uid: 1000, gid: 1001 } }));
  assert.ok(at(mapped, '--unshare-user', '--uid', '1000', '--gid', '1001') > 0);
});

test('hidden folders: parents before children, no duplicates, never the root', () => {
  assert.deepEqual(hiddenInOrder(['/a/b/c', '/a', '/', '/a/', '/z', 'relative']), ['/a', '/z', '/a/b/c']);
  assert.ok(isWithin('/a/b', '/a') && isWithin('/a', '/a') && !isWithin('/ab', '/a'));
});
