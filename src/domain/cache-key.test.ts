import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheKeyError, cacheKeyProblem, cacheKeyTemplateProblem, cacheScopes, pickCache, renderCacheKey } from './cache-key.js';

const context = (seen: string[][] = []) => ({
  branch: 'feature/login',
  hashFiles: async (globs: string[]) => {
    seen.push(globs);
    return 'ab12';
  },
});

test('a key renders branch (made safe) and hashFiles (with every glob)', async () => {
  const seen: string[][] = [];
  assert.equal(await renderCacheKey("deps-{{ branch }}-{{ hashFiles('package-lock.json', 'web/*.lock') }}", context(seen)), 'deps-feature-login-ab12');
  assert.deepEqual(seen, [['package-lock.json', 'web/*.lock']]);
  assert.equal(await renderCacheKey('plain-v1', context()), 'plain-v1');
  assert.equal(await renderCacheKey('x-{{branch}}', { ...context(), branch: 'a/../../b' }), 'x-a-.-.-b');
});

test('keys that are paths, unknown expressions and bad calls are refused, saying why', async () => {
  const bad: [string, RegExp][] = [
    ['deps/{{ branch }}', /only letters, digits/],
    ['../main-deps', /contains "\.\."/],
    ['', /empty/],
    ['{{ env.SECRET }}', /Unknown expression/],
    ['{{ hashFiles(package.json) }}', /quoted globs/],
    ['{{ hashFiles() }}', /at least one glob/],
    ['x-{{ branch', /unclosed/],
    ['k'.repeat(600), /longer than 512/],
  ];
  for (const [template, why] of bad) {
    assert.match(cacheKeyTemplateProblem(template) ?? '', why, template);
    await assert.rejects(renderCacheKey(template, context()), (e: Error) => e instanceof CacheKeyError && why.test(e.message));
  }
  assert.equal(cacheKeyProblem('node-modules-v1.2_x'), null);
});

test('a pull request writes only its own scope and reads its own, its target, then the default branch', () => {
  assert.deepEqual(cacheScopes({ branch: 'feature/x', defaultBranch: 'main', pullRequest: { number: 7, targetBranch: 'release/1' } }), {
    write: 'pr-7',
    read: ['pr-7', 'branch-release-1', 'branch-main'],
  });
  assert.deepEqual(cacheScopes({ branch: 'main', defaultBranch: 'main' }), { write: 'branch-main', read: ['branch-main'] });
  assert.deepEqual(cacheScopes({ branch: 'dev', defaultBranch: 'main' }), { write: 'branch-dev', read: ['branch-dev', 'branch-main'] });
});

test('restore: exact key first, then the newest restore-key match, scope by scope', () => {
  const entries = [
    { scope: 'branch-main', key: 'deps-aaa', createdAt: '2026-01-01T00:00:00Z' },
    { scope: 'branch-main', key: 'deps-bbb', createdAt: '2026-01-03T00:00:00Z' },
    { scope: 'branch-main', key: 'deps-ccc', createdAt: '2026-01-02T00:00:00Z' },
    { scope: 'pr-7', key: 'deps-zzz', createdAt: '2026-01-04T00:00:00Z' },
  ];
  const main = ['branch-main'];
  assert.deepEqual(pickCache(entries, { key: 'deps-ccc', restoreKeys: ['deps-'], scopes: main }), { entry: entries[2], exact: true });
  assert.deepEqual(pickCache(entries, { key: 'deps-new', restoreKeys: ['deps-'], scopes: main }), { entry: entries[1], exact: false });
  assert.equal(pickCache(entries, { key: 'deps-new', restoreKeys: ['other-'], scopes: main }), null);
  // the pull request's own (newer) cache wins over main's; main never sees the pull request's
  assert.deepEqual(pickCache(entries, { key: 'deps-new', restoreKeys: ['deps-'], scopes: ['pr-7', 'branch-main'] }), { entry: entries[3], exact: false });
  assert.equal(pickCache(entries, { key: 'deps-zzz', restoreKeys: [], scopes: main }), null, 'a PR cache is not readable from main');
  assert.deepEqual(pickCache(entries, { key: 'deps-aaa', restoreKeys: [], scopes: ['pr-7', 'branch-main'] }), { entry: entries[0], exact: true });
});
