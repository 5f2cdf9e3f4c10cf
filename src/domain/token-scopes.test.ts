import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeScopes, requestClass, scopesAllow, scopesOfRole } from './token-scopes.js';

test('roles cap scopes: viewer read, developer up to write, admin everything', () => {
  assert.deepEqual(scopesOfRole('viewer'), ['read']);
  assert.deepEqual(scopesOfRole('developer'), ['read', 'run', 'write']);
  assert.deepEqual(scopesOfRole('admin'), ['read', 'run', 'write', 'admin']);
});

test('scopes nest, and a password login (no scopes) is limited by the role only', () => {
  assert.equal(scopesAllow(['read'], 'read'), true);
  assert.equal(scopesAllow(['read'], 'run'), false);
  assert.equal(scopesAllow(['write'], 'run'), true);
  assert.equal(scopesAllow(['run'], 'write'), false);
  assert.equal(scopesAllow(['admin'], 'write'), true);
  assert.equal(scopesAllow([], 'read'), false);
  assert.equal(scopesAllow(undefined, 'admin'), true);
});

test('request classes by method and route', () => {
  assert.equal(requestClass('GET', '/api/pipelines/'), 'read');
  assert.equal(requestClass('HEAD', '/api/pipelines/:id/'), 'read');
  assert.equal(requestClass('POST', '/api/pipelines/:id/run/'), 'run');
  assert.equal(requestClass('POST', '/api/pipeline-runs/:id/cancel/'), 'run');
  assert.equal(requestClass('POST', '/api/pipeline-runs/:id/approvals/'), 'run', 'approving lets a run start');
  assert.equal(requestClass('POST', '/api/webhook-deliveries/:id/redeliver/'), 'run');
  assert.equal(requestClass('PUT', '/api/pipelines/:id/'), 'write');
  assert.equal(requestClass('POST', '/api/users/me/tokens/'), 'write');
  assert.equal(requestClass('PATCH', '/api/users/:id/'), 'admin');
  assert.equal(requestClass('GET', '/api/users/:id/'), 'read');
  assert.equal(requestClass('GET', '/api/audit-events/'), 'read', 'the policy decides how much of the log');
});

test('scopes are stored ordered and once', () => {
  assert.deepEqual(normalizeScopes(['write', 'read', 'write']), ['read', 'write']);
});
