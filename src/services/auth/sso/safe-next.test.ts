import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeNextPath } from './sso-service.js';

test('the page to land on after single sign-on is a path of this site, never another origin', () => {
  assert.equal(safeNextPath('/runs/3?tab=logs'), '/runs/3?tab=logs');
  assert.equal(safeNextPath(undefined), '/');
  for (const bad of ['//evil.example/x', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)', 'runs', `/${'a'.repeat(600)}`])
    assert.equal(safeNextPath(bad), '/', bad);
});
