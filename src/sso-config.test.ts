import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSsoConfig, secureOrLoopback } from './sso-config.js';

const load = (env: Record<string, string>) => {
  const problems: string[] = [];
  return { config: loadSsoConfig(env, problems), problems };
};

test('no issuer: no single sign-on, password sign-in on; turning passwords off then is refused', () => {
  assert.deepEqual(load({}), { config: { oidc: null, passwordLogin: true, breakGlassUser: 'admin' }, problems: [] });
  assert.match(load({ ANSFLOW_PASSWORD_LOGIN: 'off' }).problems.join(), /needs single sign-on/);
  assert.match(load({ ANSFLOW_OIDC_CLIENT_ID: 'x' }).problems.join(), /ANSFLOW_OIDC_CLIENT_ID is set but ANSFLOW_OIDC_ISSUER is not/);
});

test('a full configuration', () => {
  const { config, problems } = load({
    ANSFLOW_OIDC_ISSUER: 'https://idp.example.com/realms/ci',
    ANSFLOW_OIDC_CLIENT_ID: 'ansflow',
    ANSFLOW_OIDC_CLIENT_SECRET: 's3cret',
    ANSFLOW_OIDC_GROUP_ROLES: '{"ops": {"infra": "maintainer"}}',
    ANSFLOW_OIDC_SCOPES: 'profile groups',
    ANSFLOW_PASSWORD_LOGIN: 'off',
    ANSFLOW_BREAK_GLASS_USER: 'root',
  });
  assert.deepEqual(problems, []);
  assert.equal(config.passwordLogin, false);
  assert.equal(config.breakGlassUser, 'root');
  assert.equal(config.oidc?.scopes, 'openid profile groups', 'openid is always asked for');
  assert.deepEqual(config.oidc?.groupRoles, { ops: { infra: 'maintainer' } });
  assert.equal(config.oidc?.timeoutSeconds, 10);
  assert.equal(config.oidc?.groupsClaim, 'groups');
});

test('every mistake is named', () => {
  const { problems } = load({
    ANSFLOW_OIDC_ISSUER: 'http://idp.example.com',
    ANSFLOW_OIDC_GROUP_ROLES: '{"ops": {"infra": "admin"}}',
    ANSFLOW_OIDC_TIMEOUT_SECONDS: '0',
    ANSFLOW_OIDC_DEFAULT_ROLE: 'admin',
    ANSFLOW_PASSWORD_LOGIN: 'maybe',
  });
  assert.deepEqual(problems, [
    'ANSFLOW_PASSWORD_LOGIN="maybe" must be on or off',
    'ANSFLOW_OIDC_ISSUER must be an https:// URL (http:// only on a loopback address, for tests)',
    'ANSFLOW_OIDC_CLIENT_ID is required with ANSFLOW_OIDC_ISSUER',
    'ANSFLOW_OIDC_CLIENT_SECRET is required with ANSFLOW_OIDC_ISSUER',
    'ANSFLOW_OIDC_GROUP_ROLES group "ops", project "infra": role must be one of owner, maintainer, developer, viewer',
    'ANSFLOW_OIDC_DEFAULT_ROLE="admin" must be developer or viewer',
    'ANSFLOW_OIDC_TIMEOUT_SECONDS="0" must be a whole number from 1 to 120',
  ]);
});

test('http only on loopback', () => {
  assert.ok(secureOrLoopback('https://idp.example.com'));
  assert.ok(secureOrLoopback('http://127.0.0.1:9000'));
  assert.ok(secureOrLoopback('http://[::1]:9000'));
  assert.ok(!secureOrLoopback('http://127.0.0.1.evil.example'));
  assert.ok(!secureOrLoopback('http://10.0.0.1'));
  assert.ok(!secureOrLoopback('ftp://127.0.0.1'));
});
