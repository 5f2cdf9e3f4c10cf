import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, initialAdminPassword, loadConfig } from './config.js';

test('defaults follow the contract', () => {
  const c = loadConfig({});
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.apiPort, 8000);
  assert.equal(c.gatewayPort, 8001);
  assert.equal(c.databaseUrl, null);
  assert.equal(c.redisUrl, null);
  assert.equal(c.allowLocalRepositories, false);
  assert.equal(initialAdminPassword(c), 'admin123');
});

test('every bad value is reported at once, by name', () => {
  try {
    loadConfig({
      ANSFLOW_API_PORT: 'eighty',
      ANSFLOW_GATEWAY_PORT: '70000',
      ANSFLOW_DATABASE_URL: 'mysql://x',
      ANSFLOW_SECRET_KEY: 'short',
      ANSFLOW_ALLOW_LOCAL_REPOSITORIES: 'maybe',
      ANSFLOW_SANDBOX_SPAWNER: 'pearl',
    });
    assert.fail('expected a ConfigError');
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    const text = error.message;
    for (const name of [
      'ANSFLOW_API_PORT',
      'ANSFLOW_GATEWAY_PORT',
      'ANSFLOW_DATABASE_URL',
      'ANSFLOW_SECRET_KEY',
      'ANSFLOW_ALLOW_LOCAL_REPOSITORIES',
      'ANSFLOW_SANDBOX_SPAWNER',
    ])
      assert.match(text, new RegExp(name));
  }
});

test('a non-loopback bind refuses the default admin password', () => {
  const c = loadConfig({ ANSFLOW_HOST: '0.0.0.0' });
  assert.throws(() => initialAdminPassword(c), /ANSFLOW_ADMIN_PASSWORD/);
  assert.equal(initialAdminPassword(loadConfig({ ANSFLOW_HOST: '0.0.0.0', ANSFLOW_ADMIN_PASSWORD: 'long-enough-pw' })), 'long-enough-pw');
});

test('postgres URLs select PostgreSQL; equal ports are refused', () => {
  assert.equal(loadConfig({ ANSFLOW_DATABASE_URL: 'postgres://u@h/db' }).databaseUrl, 'postgres://u@h/db');
  assert.throws(() => loadConfig({ ANSFLOW_API_PORT: '9000', ANSFLOW_GATEWAY_PORT: '9000' }), /must differ/);
});
