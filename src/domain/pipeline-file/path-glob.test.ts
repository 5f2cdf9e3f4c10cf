import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathGlobProblem, pathMatches } from './path-glob.js';

test('* stays inside a folder, ** crosses folders, **/ also matches no folder, ? is one character', () => {
  assert.equal(pathMatches('src/*.ts', 'src/a.ts'), true);
  assert.equal(pathMatches('src/*.ts', 'src/x/a.ts'), false);
  assert.equal(pathMatches('src/**', 'src/x/y/a.ts'), true);
  assert.equal(pathMatches('src/**/*.ts', 'src/a.ts'), true);
  assert.equal(pathMatches('**/*.md', 'README.md'), true);
  assert.equal(pathMatches('**/*.md', 'docs/a/b.md'), true);
  assert.equal(pathMatches('file?.txt', 'file1.txt'), true);
  assert.equal(pathMatches('file?.txt', 'file/.txt'), false);
});

test('everything else is literal, the whole path must match, and case counts', () => {
  assert.equal(pathMatches('a.b', 'axb'), false);
  assert.equal(pathMatches('docs/', 'docs/a.md'), false);
  assert.equal(pathMatches('src', 'src/a'), false);
  assert.equal(pathMatches('Makefile', 'makefile'), false);
  assert.equal(pathMatches('(a|b)', '(a|b)'), true);
});

test('globs from the root are refused with the fix', () => {
  assert.match(pathGlobProblem('/src/**')!, /leading "\/"/);
  assert.match(pathGlobProblem('./src/**')!, /leading "\.\/"/);
  assert.equal(pathGlobProblem('src/**'), null);
});
