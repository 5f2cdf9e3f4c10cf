import { test } from 'node:test';
import assert from 'node:assert/strict';
import { operationIdOf } from './openapi.js';

test('operationIdOf: the method and the path words, path parameters as By<Name>, /api and versions dropped', () => {
  assert.equal(operationIdOf('GET', '/api/pipelines/'), 'getPipelines');
  assert.equal(operationIdOf('GET', '/api/pipelines/:id/'), 'getPipelinesById');
  assert.equal(operationIdOf('GET', '/api/pipelines/:id/runs/'), 'getPipelinesByIdRuns');
  assert.equal(operationIdOf('DELETE', '/api/projects/:id/members/:user_id/'), 'deleteProjectsByIdMembersByUserId');
  assert.equal(operationIdOf('POST', '/api/pipeline-runs/:id/cancel/'), 'postPipelineRunsByIdCancel');
  assert.equal(operationIdOf('GET', '/api/pipelines/:id/badge.svg'), 'getPipelinesByIdBadgeSvg');
  assert.equal(operationIdOf('GET', '/api/v1/system/status'), 'getSystemStatus');
  assert.equal(operationIdOf('GET', '/metrics'), 'getMetrics');
});
