import { test } from 'node:test';
import assert from 'node:assert/strict';
import { approvalIneligibility, approversText, gateState, type ApprovalRule, type RecordedDecision, type Voter } from './approvals.js';

const rule = (over: Partial<ApprovalRule> = {}): ApprovalRule => ({
  required_approvals: 2,
  approvers: { users: ['alice'], roles: ['maintainer'] },
  prevent_self_approval: true,
  ...over,
});
const voter = (username: string, projectRole: Voter['projectRole'], id = username.length, admin = false): Voter => ({ id, username, projectRole, admin });
const decision = (v: Voter, d: 'approve' | 'reject' = 'approve'): RecordedDecision => ({
  user_id: v.id,
  username: v.username,
  decision: d,
  at: '2026-12-01T00:00:00Z',
});
const author = { id: 99, username: 'dave' };

test('approvers are named by user or by project role; admins always may', () => {
  assert.equal(approvalIneligibility(rule(), voter('alice', 'developer'), author, []), null, 'named user');
  assert.equal(approvalIneligibility(rule(), voter('bob', 'maintainer'), author, []), null, 'by role');
  assert.match(approvalIneligibility(rule(), voter('carol', 'developer'), author, []) ?? '', /not an approver/);
  assert.match(approvalIneligibility(rule(), voter('eve', null), author, []) ?? '', /not an approver/);
  assert.equal(approvalIneligibility(rule(), voter('root', null, 1, true), author, []), null, 'admin');
});

test('with nobody named, maintainers and owners decide', () => {
  const open = rule({ approvers: { users: [], roles: [] } });
  assert.equal(approvalIneligibility(open, voter('m', 'maintainer'), author, []), null);
  assert.equal(approvalIneligibility(open, voter('o', 'owner'), author, []), null);
  assert.match(approvalIneligibility(open, voter('d', 'developer'), author, []) ?? '', /not an approver/);
  assert.equal(approversText(open), '2 of: project maintainers and owners (not the run’s own author)');
});

test('self-approval is refused when the environment says so, by id or by author name', () => {
  const dave = voter('dave', 'maintainer', 99);
  assert.match(approvalIneligibility(rule(), dave, author, []) ?? '', /your own deployment/);
  assert.match(approvalIneligibility(rule(), voter('dave', 'maintainer', 5), { id: null, username: 'dave' }, []) ?? '', /your own/, 'a fork PR author');
  assert.equal(approvalIneligibility(rule({ prevent_self_approval: false }), dave, author, []), null);
});

test('each person decides once', () => {
  const alice = voter('alice', 'developer');
  assert.match(approvalIneligibility(rule(), alice, author, [decision(alice)]) ?? '', /already decided/);
});

test('N distinct approvals open the gate; one rejection closes it', () => {
  const alice = voter('alice', 'developer', 1);
  const bob = voter('bob', 'maintainer', 2);
  assert.deepEqual(gateState(rule(), []), { state: 'waiting', approvals: 0, needed: 2 });
  assert.deepEqual(gateState(rule(), [decision(alice)]), { state: 'waiting', approvals: 1, needed: 2 });
  assert.deepEqual(gateState(rule(), [decision(alice), decision(alice)]), { state: 'waiting', approvals: 1, needed: 2 }, 'the same person twice is one');
  assert.deepEqual(gateState(rule(), [decision(alice), decision(bob)]), { state: 'approved', by: ['alice', 'bob'] });
  assert.deepEqual(gateState(rule(), [decision(alice), decision(bob, 'reject')]), { state: 'rejected', by: 'bob' });
  assert.deepEqual(gateState(rule({ required_approvals: 0 }), [decision(alice)]), { state: 'approved', by: ['alice'] }, 'at least one');
});
