import { test } from 'node:test';
import assert from 'node:assert/strict';
import { branchMatches, splitPatterns } from './branch-match.js';

test('a plain branch setting matches only the identical branch', () => {
  assert.equal(branchMatches('main', 'main'), true);
  assert.equal(branchMatches('main', 'main2'), false);
  assert.equal(branchMatches('main', 'Main'), false);
  assert.equal(branchMatches('main', 'feature/main'), false);
});

test('a single star matches within one path segment only', () => {
  assert.equal(branchMatches('release/*', 'release/1.2'), true);
  assert.equal(branchMatches('release/*', 'release/'), true);
  assert.equal(branchMatches('release/*', 'release/1/2'), false);
  assert.equal(branchMatches('release/*', 'release'), false);
  assert.equal(branchMatches('release/*', 'hotfix/1.2'), false);
  assert.equal(branchMatches('v*-rc', 'v1.2-rc'), true);
  assert.equal(branchMatches('v*-rc', 'v1.2-rc1'), false);
});

test('a star alone matches every branch without a slash', () => {
  assert.equal(branchMatches('*', 'main'), true);
  assert.equal(branchMatches('*', 'feature/x'), false);
});

test('a double star matches across slashes', () => {
  assert.equal(branchMatches('**', 'feature/a/b'), true);
  assert.equal(branchMatches('feature/**', 'feature/a/b'), true);
  assert.equal(branchMatches('feature/**', 'feature/a'), true);
  assert.equal(branchMatches('feature/**', 'bugfix/a'), false);
  assert.equal(branchMatches('a/**/b', 'a/b'), true);
  assert.equal(branchMatches('a/**/b', 'a/x/y/b'), true);
  assert.equal(branchMatches('a/**/b', 'a/x/y/c'), false);
});

test('regex characters in a pattern are literal', () => {
  assert.equal(branchMatches('v1.2', 'v1x2'), false);
  assert.equal(branchMatches('v1.2', 'v1.2'), true);
  assert.equal(branchMatches('a+b', 'aab'), false);
  assert.equal(branchMatches('a+b', 'a+b'), true);
  assert.equal(branchMatches('(x|y)', 'x'), false);
});

test('a comma-separated list matches when any item matches, ignoring spaces', () => {
  assert.equal(branchMatches('main, develop ,release/*', 'develop'), true);
  assert.equal(branchMatches('main, develop ,release/*', 'release/3'), true);
  assert.equal(branchMatches('main, develop ,release/*', 'feature/x'), false);
  assert.deepEqual(splitPatterns(' a, ,b,'), ['a', 'b']);
});

test('an empty setting or an empty branch matches nothing', () => {
  assert.equal(branchMatches('', 'main'), false);
  assert.equal(branchMatches(' , ', 'main'), false);
  assert.equal(branchMatches('**', ''), false);
});
