import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupsOfClaim, parseGroupRoleMapping, rolesFromGroups, usernameWish } from './sso.js';

test('group mapping: parsed from JSON, every mistake named', () => {
  assert.deepEqual(parseGroupRoleMapping('{"ops": {"infra": "maintainer"}}'), { mapping: { ops: { infra: 'maintainer' } }, problems: [] });
  assert.deepEqual(parseGroupRoleMapping('ops=infra').problems, ['must be JSON: {"<group>": {"<project name>": "<role>"}}']);
  assert.deepEqual(parseGroupRoleMapping('["ops"]').problems, ['must be a JSON object of groups']);
  assert.deepEqual(parseGroupRoleMapping('{"ops": "infra"}').problems, ['group "ops" must map to an object of project names and roles']);
  // `admin` is a global role, never one a group can hand out.
  assert.deepEqual(parseGroupRoleMapping('{"ops": {"infra": "admin"}}').problems, [
    'group "ops", project "infra": role must be one of owner, maintainer, developer, viewer',
  ]);
});

test('roles from groups: the highest role any group grants; projects named but not granted are null (removed)', () => {
  const mapping = { ops: { Infra: 'maintainer' as const }, staff: { infra: 'viewer' as const, default: 'viewer' as const }, leads: { web: 'owner' as const } };
  assert.deepEqual(
    [...rolesFromGroups(mapping, ['staff', 'ops'])],
    [
      ['infra', 'maintainer'],
      ['default', 'viewer'],
      ['web', null],
    ],
  );
  assert.deepEqual(
    [...rolesFromGroups(mapping, [])].filter(([, r]) => r !== null),
    [],
  );
  assert.equal(rolesFromGroups({}, ['ops']).size, 0, 'no mapping: memberships are left alone');
});

test('groups claim: an array of strings or one string; anything else is no group', () => {
  assert.deepEqual(groupsOfClaim(['a', 1, 'b', null]), ['a', 'b']);
  assert.deepEqual(groupsOfClaim('a'), ['a']);
  assert.deepEqual(groupsOfClaim({ a: 1 }), []);
  assert.deepEqual(groupsOfClaim(undefined), []);
});

test('username wish: preferred_username, else the e-mail local part, cleaned to allowed characters', () => {
  assert.equal(usernameWish({ preferred_username: 'alice', email: 'x@y' }), 'alice');
  assert.equal(usernameWish({ preferred_username: 'Jean Dupré', email: 'x@y' }), 'JeanDupr');
  assert.equal(usernameWish({ preferred_username: '   ', email: 'bob.smith@example.com' }), 'bob.smith');
  assert.equal(usernameWish({ preferred_username: 42 }), 'user');
  assert.equal(usernameWish({ preferred_username: 'x'.repeat(300) }).length, 142);
});
