import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_MATCHING_CHANGES, whyExcluded } from './when.js';

const push = (branch: string, changedFiles?: string[] | null) => ({ branch, event: 'push' as const, changedFiles });

test('no when, or an empty one, always holds', () => {
  assert.equal(whyExcluded(undefined, push('x')), null);
  assert.equal(whyExcluded({}, push('x')), null);
});

test('branch globs as the webhook filter matches them; a single branch or a list', () => {
  assert.equal(whyExcluded({ branch: 'release/*' }, push('release/1.0')), null);
  assert.equal(whyExcluded({ branch: ['main', 'feature/**'] }, push('feature/a/b')), null);
  assert.equal(whyExcluded({ branch: 'main' }, push('mainline')), 'skipped: branch "mainline" is not in when.branch');
});

test('events', () => {
  assert.equal(whyExcluded({ event: 'manual' }, { branch: 'main', event: 'manual' }), null);
  assert.equal(whyExcluded({ event: ['push', 'tag'] }, { branch: 'main', event: 'pull_request' }), 'skipped: event "pull_request" is not in when.event');
});

test('paths: some changed file must match and not be ignored; unknown changes pass; no changes do not', () => {
  assert.equal(whyExcluded({ paths: 'src/**' }, push('main', ['README.md', 'src/a.ts'])), null);
  assert.equal(whyExcluded({ paths: 'src/**' }, push('main', ['README.md'])), NO_MATCHING_CHANGES);
  assert.equal(whyExcluded({ paths_ignore: ['**/*.md'] }, push('main', ['a.md', 'docs/b.md'])), NO_MATCHING_CHANGES);
  assert.equal(whyExcluded({ paths_ignore: ['**/*.md'] }, push('main', ['a.md', 'b.ts'])), null);
  assert.equal(whyExcluded({ paths: 'src/**', paths_ignore: 'src/gen/**' }, push('main', ['src/gen/x.ts'])), NO_MATCHING_CHANGES);
  assert.equal(whyExcluded({ paths: 'src/**' }, push('main', null)), null);
  assert.equal(whyExcluded({ paths: 'src/**' }, push('main')), null);
  assert.equal(whyExcluded({ paths: 'src/**' }, push('main', [])), NO_MATCHING_CHANGES);
});

test('every condition must hold: the first that fails is the reason', () => {
  assert.equal(whyExcluded({ branch: 'main', paths: 'src/**' }, push('dev', ['x'])), 'skipped: branch "dev" is not in when.branch');
});
