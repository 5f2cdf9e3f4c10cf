import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commitStatusTarget } from './commit-status-target.js';
import { retryMoment } from './send-commit-status.js';
import { forgeStateOf } from '../../domain/commit-status.js';

const none = { githubApiUrl: null, gitlabApiUrl: null };

test('GitHub: api.github.com for github.com, /api/v3 on an Enterprise host, the configured URL above both', () => {
  assert.deepEqual(commitStatusTarget('github', 'https://github.com/Acme/App.git', none), { apiUrl: 'https://api.github.com', repository: 'Acme/App' });
  assert.deepEqual(commitStatusTarget('github', 'git@github.com:acme/app.git', none), { apiUrl: 'https://api.github.com', repository: 'acme/app' });
  assert.deepEqual(commitStatusTarget('github', 'https://ghe.corp.example/acme/app', none), {
    apiUrl: 'https://ghe.corp.example/api/v3',
    repository: 'acme/app',
  });
  assert.deepEqual(commitStatusTarget('github', 'https://github.com/acme/app', { ...none, githubApiUrl: 'http://127.0.0.1:9/api/v3/' }), {
    apiUrl: 'http://127.0.0.1:9/api/v3',
    repository: 'acme/app',
  });
  assert.ok('problem' in commitStatusTarget('github', 'https://github.com/acme/app/extra', none));
  assert.ok('problem' in commitStatusTarget('github', null, none));
});

test("GitLab: the repository's host + /api/v4 (http only for an http repository, ssh ports dropped), subgroups kept", () => {
  assert.deepEqual(commitStatusTarget('gitlab', 'https://gitlab.com/group/sub/project.git', none), {
    apiUrl: 'https://gitlab.com/api/v4',
    repository: 'group/sub/project',
  });
  assert.deepEqual(commitStatusTarget('gitlab', 'http://gitlab.local:8080/g/p', none), { apiUrl: 'http://gitlab.local:8080/api/v4', repository: 'g/p' });
  assert.deepEqual(commitStatusTarget('gitlab', 'ssh://git@gitlab.local:2222/g/p.git', none), { apiUrl: 'https://gitlab.local/api/v4', repository: 'g/p' });
  assert.ok('problem' in commitStatusTarget('gitlab', 'https://gitlab.com/g//p', none));
});

test('Retry-After (seconds or a date) comes first; the rate limit reset counts only when nothing is left', () => {
  const now = 1_000_000_000_000;
  assert.equal(retryMoment(new Headers({ 'retry-after': '3' }), now), now + 3000);
  assert.equal(retryMoment(new Headers({ 'retry-after': new Date(now + 5000).toUTCString() }), now), now + 5000);
  assert.equal(retryMoment(new Headers({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 7) }), now), now + 7000);
  assert.equal(retryMoment(new Headers({ 'ratelimit-remaining': '0', 'ratelimit-reset': String(now / 1000 + 2) }), now), now + 2000);
  assert.equal(retryMoment(new Headers({ 'x-ratelimit-remaining': '10', 'x-ratelimit-reset': String(now / 1000 + 7) }), now), null);
  assert.equal(retryMoment(new Headers({ 'retry-after': '999999' }), now), now + 3600_000, 'capped at an hour');
});

test('run states map to each forge; cancel and error reasons are shown, cut to 140 characters', () => {
  assert.deepEqual(forgeStateOf('github', 'running'), { rank: 1, state: 'pending', description: 'running' });
  assert.deepEqual(forgeStateOf('gitlab', 'running'), { rank: 1, state: 'running', description: 'running' });
  assert.equal(forgeStateOf('gitlab', 'cancelled', { reason: 'superseded by run #4' }).state, 'canceled');
  assert.equal(forgeStateOf('github', 'cancelled', { reason: 'superseded by run #4' }).description, 'superseded by run #4');
  assert.equal(forgeStateOf('github', 'timeout').state, 'failure');
  assert.equal(forgeStateOf('github', 'error', { reason: 'x'.repeat(500) }).description.length, 140);
  assert.deepEqual(forgeStateOf('gitlab', 'success', { skipped: true }), { rank: 2, state: 'success', description: 'skipped: no matching changes' });
});
