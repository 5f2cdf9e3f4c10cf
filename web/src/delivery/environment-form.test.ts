import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { approvalRule, emptyEnvironmentForm, environmentBody, formFromEnvironment } from './environment-form';
import type { Environment } from '../api/delivery';

const stored: Environment = {
  id: 3,
  project_id: 2,
  name: 'production',
  description: 'Live',
  required_approvals: 2,
  approvers: { users: ['alice', 'bob'], roles: ['maintainer'] },
  prevent_self_approval: true,
  branches: ['main', 'release/*'],
  wait_timer_seconds: 30,
  approval_timeout_seconds: 3600,
  timeout_outcome: 'approve',
  concurrency: 'queue',
  created_by: null,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
  live: null,
};

describe('environment form', () => {
  it('round-trips every field of a stored environment into the same body', () => {
    const { body, errors } = environmentBody(formFromEnvironment(stored));
    assert.deepEqual(errors, {});
    assert.deepEqual(body, {
      name: 'production',
      description: 'Live',
      project: 2,
      required_approvals: 2,
      approvers: { users: ['alice', 'bob'], roles: ['maintainer'] },
      prevent_self_approval: true,
      branches: ['main', 'release/*'],
      wait_timer_seconds: 30,
      approval_timeout_seconds: 3600,
      timeout_outcome: 'approve',
      concurrency: 'queue',
    });
  });

  it('reads lists split by commas or lines, an empty timeout as none, and names bad numbers', () => {
    const form = { ...emptyEnvironmentForm(), name: ' staging ', approverUsers: 'alice,\nbob, alice', branches: 'main\nhotfix/*', concurrency: '' as const };
    const { body, errors } = environmentBody(form);
    assert.deepEqual(errors, {});
    assert.equal(body.name, 'staging');
    assert.deepEqual(body.approvers.users, ['alice', 'bob']);
    assert.deepEqual(body.branches, ['main', 'hotfix/*']);
    assert.equal(body.approval_timeout_seconds, null);
    assert.equal(body.concurrency, null);
    assert.equal('project' in body, false);
    const bad = environmentBody({ ...form, name: '', requiredApprovals: 'two', approvalTimeoutSeconds: '0', waitTimerSeconds: '-1' }).errors;
    assert.deepEqual(Object.keys(bad).sort(), ['approval_timeout_seconds', 'name', 'required_approvals', 'wait_timer_seconds']);
  });

  it('says the approval rule in words', () => {
    assert.equal(approvalRule(stored), '2 approvals from alice, bob, role maintainer (not the run’s author)');
    assert.equal(
      approvalRule({ ...stored, required_approvals: 1, approvers: { users: [], roles: [] }, prevent_self_approval: false }),
      '1 approval from maintainers and owners',
    );
    assert.equal(approvalRule({ ...stored, required_approvals: 0 }), 'no approval needed');
  });
});
