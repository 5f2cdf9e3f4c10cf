/**
 * Cache archives round-trip a node_modules-like tree (links kept as links), and an archive shaped
 * by a hostile step (`..` members, absolute members, a link followed by a write through it) is
 * refused without writing anything outside the workspace. Hostile archives are made with GNU tar.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { cacheEntries, packCache, unpackCache } from './cache-archive.js';
import { hashFiles } from './hash-files.js';

function tree() {
  const root = mkdtempSync(join(tmpdir(), 'ansflow-cache-'));
  const ws = join(root, 'ws');
  mkdirSync(join(ws, 'node_modules', 'left-pad', 'lib'), { recursive: true });
  mkdirSync(join(ws, 'node_modules', '.bin'), { recursive: true });
  writeFileSync(join(ws, 'node_modules', 'left-pad', 'package.json'), '{"name":"left-pad"}');
  writeFileSync(join(ws, 'node_modules', 'left-pad', 'lib', 'index.js'), 'module.exports = 1;');
  symlinkSync('../left-pad/lib/index.js', join(ws, 'node_modules', '.bin', 'left-pad'));
  writeFileSync(join(ws, 'package-lock.json'), '{"lockfileVersion":3}');
  writeFileSync(join(ws, 'src.js'), 'x');
  return { root, ws, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

test('a cache round-trips: files, folders and links (kept as links)', async () => {
  const t = tree();
  try {
    assert.deepEqual(await cacheEntries(t.ws, ['node_modules', 'package-lock.json']), ['node_modules', 'package-lock.json']);
    const { stream, entries } = await packCache(t.ws, ['node_modules']);
    assert.equal(entries, 1);
    const archive = await buffer(stream);
    const target = join(t.root, 'restored');
    mkdirSync(target);
    const result = await unpackCache(Readable.from([archive]), target);
    assert.ok(result.entries >= 6, `entries: ${result.entries}`);
    assert.equal(readFileSync(join(target, 'node_modules', 'left-pad', 'lib', 'index.js'), 'utf8'), 'module.exports = 1;');
    const bin = join(target, 'node_modules', '.bin', 'left-pad');
    assert.ok(lstatSync(bin).isSymbolicLink());
    assert.equal(readlinkSync(bin), '../left-pad/lib/index.js');
    assert.equal(existsSync(join(target, 'src.js')), false, 'only the cache paths');
  } finally {
    t.cleanup();
  }
});

test('cache globs that climb are refused', async () => {
  const t = tree();
  try {
    await assert.rejects(packCache(t.ws, ['../']), /cache: .*climbs out/);
    await assert.rejects(packCache(t.ws, ['/etc']), /cache: .*absolute/);
  } finally {
    t.cleanup();
  }
});

test('hostile archives write nothing outside the workspace', async () => {
  const t = tree();
  try {
    const outside = join(t.root, 'outside');
    mkdirSync(outside);
    // 1. a member named ../escape.txt  2. an absolute member  3. a link to outside, then a file through it
    const deep = join(t.root, 'a', 'b');
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(t.root, 'a', 'escape.txt'), 'escaped');
    const climb = join(t.root, 'climb.tgz');
    execFileSync('tar', ['-czPf', climb, '../escape.txt'], { cwd: deep });
    const absolute = join(t.root, 'absolute.tgz');
    execFileSync('tar', ['-czPf', absolute, join(t.root, 'a', 'escape.txt')]);
    const s1 = join(t.root, 's1');
    const s2 = join(t.root, 's2');
    mkdirSync(s1);
    mkdirSync(join(s2, 'link'), { recursive: true });
    symlinkSync(outside, join(s1, 'link'));
    writeFileSync(join(s2, 'link', 'pwned'), 'pwned');
    const through = join(t.root, 'through.tgz');
    execFileSync('tar', ['-czf', through, '-C', s1, 'link', '-C', s2, 'link/pwned']);

    for (const archive of [climb, absolute, through]) {
      const target = mkdtempSync(join(t.root, 'target-'));
      await unpackCache(createReadStream(archive), target).catch(() => undefined);
      assert.equal(existsSync(join(t.root, 'escape.txt')), false, `${archive}: nothing beside the workspace`);
      assert.equal(existsSync(join(outside, 'pwned')), false, `${archive}: nothing through a link`);
    }
    // the original escape.txt is untouched
    assert.equal(readFileSync(join(t.root, 'a', 'escape.txt'), 'utf8'), 'escaped');
  } finally {
    t.cleanup();
  }
});

test('hashFiles: stable, follows content and names, ignores links, empty on no match', async () => {
  const t = tree();
  try {
    const first = await hashFiles(t.ws, ['package-lock.json']);
    assert.match(first, /^[0-9a-f]{64}$/);
    assert.equal(await hashFiles(t.ws, ['package-lock.json']), first);
    writeFileSync(join(t.ws, 'package-lock.json'), '{"lockfileVersion":3,"x":1}');
    assert.notEqual(await hashFiles(t.ws, ['package-lock.json']), first);
    assert.equal(await hashFiles(t.ws, ['*.none']), '');
    const all = await hashFiles(t.ws, ['node_modules/**']);
    symlinkSync('/etc/passwd', join(t.ws, 'node_modules', 'evil'));
    assert.equal(await hashFiles(t.ws, ['node_modules/**']), all, 'a link changes nothing (and is not read)');
    await assert.rejects(hashFiles(t.ws, ['../*']), /hashFiles: .*climbs out/);
  } finally {
    t.cleanup();
  }
});
