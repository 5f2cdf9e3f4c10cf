import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditQuery, diffText } from './audit-query';

test('empty filters are left out and local times become ISO instants', () => {
  const q = auditQuery({ actor: ' admin ', action: '', target_type: 'pipeline', target_id: '', project: '', since: '2026-01-02T03:04', until: '' });
  assert.equal(q.actor, 'admin');
  assert.equal(q.target_type, 'pipeline');
  assert.equal(q.action, undefined);
  assert.equal(q.since, new Date('2026-01-02T03:04').toISOString());
});

test('diff values are shown as text', () => {
  assert.equal(diffText('main'), 'main');
  assert.equal(diffText(['push']), '["push"]');
  assert.equal(diffText(undefined), '');
});
