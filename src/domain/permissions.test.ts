import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, decideGlobal, memberChangeDecision, PROJECT_ACTIONS, type Actor, type ProjectAction, type ProjectRole } from './permissions.js';

const user = (role: Actor['role'], extra: Partial<Actor> = {}): Actor => ({ id: 7, username: 'u', role, ...extra });
const ask = (actor: Actor, membership: ProjectRole | null, action: ProjectAction, createdBy?: number | null) =>
  decide({ actor, membership, action, ...(createdBy !== undefined ? { createdBy } : {}) });

describe('the permission policy', () => {
  test('a non-member is told nothing exists (hide), whatever the action; an admin may do everything', () => {
    for (const action of PROJECT_ACTIONS) {
      assert.equal(ask(user('developer'), null, action), 'hide', action);
      assert.equal(ask(user('admin'), null, action), 'allow', action);
    }
  });

  test('the role table: viewer reads; developer runs, edits its own, may be an approver; maintainer edits all and manages environments; owner administers', () => {
    const expected: Record<ProjectRole, ProjectAction[]> = {
      viewer: ['read'],
      developer: ['read', 'run', 'run_override', 'approve'],
      maintainer: [
        'read',
        'run',
        'run_override',
        'edit',
        'manage_credentials',
        'approve',
        'manage_environments',
        'manage_notifications',
        'manage_members',
        'read_audit',
      ],
      owner: [...PROJECT_ACTIONS],
    };
    for (const [role, allowed] of Object.entries(expected) as Array<[ProjectRole, ProjectAction[]]>)
      for (const action of PROJECT_ACTIONS)
        assert.equal(ask(user('developer'), role, action, 999), allowed.includes(action) ? 'allow' : 'deny', `${role} ${action}`);
  });

  test('developers create, and change what they created, but not what others created', () => {
    assert.equal(ask(user('developer'), 'developer', 'edit'), 'allow', 'create');
    assert.equal(ask(user('developer'), 'developer', 'edit', 7), 'allow', 'own');
    assert.equal(ask(user('developer'), 'developer', 'edit', 8), 'deny', "another's");
    assert.equal(ask(user('developer'), 'developer', 'edit', null), 'deny', 'creator deleted');
    assert.equal(ask(user('developer'), 'developer', 'manage_credentials', 8), 'deny');
    assert.equal(ask(user('developer'), 'viewer', 'edit'), 'deny', 'viewers create nothing');
  });

  test('a global viewer stays read-only whatever a project made them', () => {
    assert.equal(ask(user('viewer'), 'owner', 'read'), 'allow');
    assert.equal(ask(user('viewer'), 'owner', 'run'), 'deny');
    assert.equal(ask(user('viewer'), 'owner', 'approve'), 'deny', 'an approval is a decision, not a read, even for a named approver');
    assert.equal(ask(user('viewer'), 'owner', 'administer'), 'deny');
    assert.equal(decideGlobal(user('viewer'), 'create_project'), 'deny');
    assert.equal(decideGlobal(user('developer'), 'create_project'), 'allow');
  });

  test("a token's scopes only take away, for admins too", () => {
    assert.equal(ask(user('admin', { scopes: ['read'] }), null, 'run'), 'deny');
    assert.equal(ask(user('admin', { scopes: ['read'] }), null, 'read'), 'allow');
    assert.equal(ask(user('developer', { scopes: ['run'] }), 'owner', 'run'), 'allow');
    assert.equal(ask(user('developer', { scopes: ['run'] }), 'owner', 'run_override'), 'deny', 'choosing variables or a commit needs write');
    assert.equal(ask(user('developer', { scopes: ['write'] }), 'owner', 'manage_members'), 'deny');
    assert.equal(ask(user('developer', { scopes: ['admin'] }), 'viewer', 'run'), 'deny', 'a scope never adds to the role');
    assert.equal(ask(user('developer', { scopes: ['read'] }), null, 'read'), 'hide', 'a non-member is still hidden');
    assert.equal(decideGlobal(user('admin', { scopes: ['write'] }), 'manage_users'), 'deny');
    assert.equal(decideGlobal(user('admin', { scopes: ['read'] }), 'read_audit_log'), 'deny', "the whole log needs an admin's admin scope");
    assert.equal(ask(user('developer', { scopes: ['read'] }), 'maintainer', 'read_audit'), 'allow', "a maintainer's read token reads the project's events");
  });

  describe('member changes', () => {
    const change = (actor: Actor, membership: ProjectRole | null, targetUserId: number, from: ProjectRole | null, to: ProjectRole | null) =>
      memberChangeDecision({ actor, membership, targetUserId, from, to });
    const me = user('developer');

    test('nobody raises their own role; a developer cannot make themselves owner', () => {
      assert.equal(change(me, 'developer', me.id, 'developer', 'owner'), 'deny');
      assert.equal(change(me, 'maintainer', me.id, 'maintainer', 'owner'), 'deny');
      assert.equal(change(me, 'viewer', me.id, 'viewer', 'developer'), 'deny');
    });

    test('a maintainer manages members below owner only', () => {
      assert.equal(change(me, 'maintainer', 9, null, 'developer'), 'allow');
      assert.equal(change(me, 'maintainer', 9, null, 'maintainer'), 'allow');
      assert.equal(change(me, 'maintainer', 9, null, 'owner'), 'deny', 'grant owner');
      assert.equal(change(me, 'maintainer', 9, 'owner', 'viewer'), 'deny', 'demote an owner');
      assert.equal(change(me, 'maintainer', 9, 'owner', null), 'deny', 'remove an owner');
      assert.equal(change(me, 'developer', 9, null, 'viewer'), 'deny', 'developers manage nobody');
    });

    test('owners and admins do anything; any member may leave; a non-member is hidden', () => {
      assert.equal(change(me, 'owner', 9, 'maintainer', 'owner'), 'allow');
      assert.equal(change(me, 'owner', me.id, 'owner', 'viewer'), 'allow', 'an owner may step down');
      assert.equal(change(user('admin'), null, 9, null, 'owner'), 'allow');
      assert.equal(change(me, 'viewer', me.id, 'viewer', null), 'allow', 'leave');
      assert.equal(change(me, null, 9, 'viewer', 'owner'), 'hide');
    });
  });
});
