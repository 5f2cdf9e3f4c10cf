/**
 * Extraction with GNU tar into the workspace: an archive lands whole, merged with the folders the
 * workspace has; a link of the workspace's in its way is replaced, never written through; an archive
 * tar refuses (a `..` member) puts nothing at all into the workspace, and no staging folder is left;
 * with an owner (the server is root) the files are the owner's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  createReadStream,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractInto } from './tar-extract.js';

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'ansflow-extract-'));
  const source = join(root, 'source');
  mkdirSync(join(source, 'node_modules', 'a', 'lib'), { recursive: true });
  writeFileSync(join(source, 'node_modules', 'a', 'lib', 'index.js'), 'a');
  writeFileSync(join(source, 'node_modules', 'a', 'package.json'), '{}');
  mkdirSync(join(source, 'node_modules', '.bin'));
  symlinkSync('../a/lib/index.js', join(source, 'node_modules', '.bin', 'a'));
  writeFileSync(join(source, 'top.txt'), 'top');
  const archive = join(root, 'cache.tgz');
  execFileSync('tar', ['-czf', archive, '-C', source, 'node_modules', 'top.txt']);
  const ws = join(root, 'parent', 'ws');
  mkdirSync(ws, { recursive: true });
  return { root, ws, archive, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

test('an archive lands whole, merged into the folders the workspace has; links in its way are replaced, not followed', async () => {
  const t = setup();
  try {
    const outside = join(t.root, 'outside');
    mkdirSync(outside);
    mkdirSync(join(t.ws, 'node_modules', 'mine'), { recursive: true });
    writeFileSync(join(t.ws, 'node_modules', 'mine', 'kept.js'), 'mine');
    symlinkSync(outside, join(t.ws, 'node_modules', 'a')); // a link the step left where the archive has a folder
    mkdirSync(join(t.ws, 'top.txt')); // a folder where the archive has a file
    const { entries } = await extractInto(createReadStream(t.archive), t.ws);
    assert.equal(entries, 8);
    assert.equal(readFileSync(join(t.ws, 'node_modules', 'a', 'lib', 'index.js'), 'utf8'), 'a');
    assert.ok(lstatSync(join(t.ws, 'node_modules', 'a')).isDirectory(), 'the link was replaced by the folder');
    assert.deepEqual(readdirSync(outside), [], 'nothing went through the link');
    assert.equal(readFileSync(join(t.ws, 'node_modules', 'mine', 'kept.js'), 'utf8'), 'mine', 'what the workspace had beside it stays');
    assert.equal(readFileSync(join(t.ws, 'top.txt'), 'utf8'), 'top');
    assert.ok(lstatSync(join(t.ws, 'node_modules', '.bin', 'a')).isSymbolicLink());
    assert.deepEqual(readdirSync(join(t.root, 'parent')), ['ws'], 'no staging folder is left');
  } finally {
    t.cleanup();
  }
});

test('an archive tar refuses puts nothing into the workspace', async () => {
  const t = setup();
  try {
    const deep = join(t.root, 'x', 'y');
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(t.root, 'x', 'escape.txt'), 'escaped');
    writeFileSync(join(deep, 'good.txt'), 'good');
    const hostile = join(t.root, 'hostile.tgz');
    execFileSync('tar', ['-czPf', hostile, 'good.txt', '../escape.txt'], { cwd: deep });
    await assert.rejects(extractInto(createReadStream(hostile), t.ws), /could not be extracted: .*Member name contains '\.\.'/);
    assert.deepEqual(readdirSync(t.ws), [], 'not even the good member');
    assert.deepEqual(readdirSync(join(t.root, 'parent')), ['ws'], 'no staging folder is left');
    await assert.rejects(extractInto(createReadStream(join(t.root, 'x', 'escape.txt')), t.ws), /could not be extracted/);
    assert.deepEqual(readdirSync(t.ws), []);
  } finally {
    t.cleanup();
  }
});

test('with an owner, tar runs as them: the files are theirs', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const t = setup();
  try {
    await extractInto(createReadStream(t.archive), t.ws, { uid: 65534, gid: 65534 });
    for (const path of ['node_modules', 'node_modules/a/lib/index.js', 'top.txt']) {
      const info = statSync(join(t.ws, path));
      assert.deepEqual([info.uid, info.gid], [65534, 65534], path);
    }
    assert.equal(existsSync(join(t.ws, 'node_modules', 'a', 'package.json')), true);
  } finally {
    t.cleanup();
  }
});
