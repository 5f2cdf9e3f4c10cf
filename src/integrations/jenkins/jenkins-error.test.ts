import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTransientJenkinsError, JenkinsError, jenkinsErrorToAppError } from './jenkins-error.js';

test('a Jenkins failure becomes 502 UPSTREAM_ERROR with the reason', () => {
  const app = jenkinsErrorToAppError(new JenkinsError('conflict', 'Jenkins trigger x: HTTP 409: x is not buildable', { status: 409 }));
  assert.equal(app.code, 'UPSTREAM_ERROR');
  assert.equal(app.status, 502);
  assert.equal(app.message, 'Jenkins trigger x: HTTP 409: x is not buildable');
  assert.deepEqual(app.details, { reason: 'conflict', status: 409 });
});

test("a request refused before sending is the caller's validation error", () => {
  const app = jenkinsErrorToAppError(new JenkinsError('invalid_request', 'bad parameter name'));
  assert.equal(app.code, 'VALIDATION_ERROR');
  assert.deepEqual(app.details, { jenkins: ['bad parameter name'] });
});

test('only unreachable, timeout and 5xx are transient', () => {
  for (const reason of ['unreachable', 'timeout', 'server_error'] as const) assert.equal(isTransientJenkinsError(new JenkinsError(reason, 'x')), true);
  for (const reason of ['not_found', 'forbidden', 'queue_item_expired', 'conflict'] as const)
    assert.equal(isTransientJenkinsError(new JenkinsError(reason, 'x')), false);
  assert.equal(isTransientJenkinsError(new Error('x')), false);
});
