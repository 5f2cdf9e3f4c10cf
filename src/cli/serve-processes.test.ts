import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roleOfProcess } from './serve-processes.js';

test('roleOfProcess: the first process runs the role asked for, the others the API (or the gateway)', () => {
  assert.equal(roleOfProcess('all', 1), 'all');
  assert.equal(roleOfProcess('all', 2), 'api');
  assert.equal(roleOfProcess('api', 3), 'api');
  assert.equal(roleOfProcess('gateway', 1), 'gateway');
  assert.equal(roleOfProcess('gateway', 2), 'gateway');
});
