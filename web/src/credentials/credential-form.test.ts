import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentialBody, SECRET_FIELDS, CREDENTIAL_KINDS } from './credential-form';

test('creating sends the whole secret of the kind, required fields even when empty, optional ones only when given', () => {
  assert.deepEqual(credentialBody({ name: ' deploy ', kind: 'ssh_key', description: '', secret: { private_key: 'KEY', passphrase: '' } }, null), {
    name: 'deploy',
    kind: 'ssh_key',
    description: '',
    secret: { private_key: 'KEY' },
  });
  assert.deepEqual(credentialBody({ name: 'x', kind: 'username_password', description: 'd', secret: {} }, null).secret, { username: '', password: '' });
});

test('editing with the same kind sends only what was typed; nothing typed keeps the stored secret', () => {
  assert.equal(credentialBody({ name: 'x', kind: 'token', description: '', secret: { token: '' } }, 'token').secret, undefined);
  assert.deepEqual(credentialBody({ name: 'x', kind: 'token', description: '', secret: { token: 'new' } }, 'token').secret, { token: 'new' });
});

test('editing with another kind sends the whole new secret', () => {
  assert.deepEqual(credentialBody({ name: 'x', kind: 'token', description: '', secret: {} }, 'ssh_key').secret, { token: '' });
});

test('fields of another kind left in the form are not sent', () => {
  assert.deepEqual(credentialBody({ name: 'x', kind: 'token', description: '', secret: { token: 't', private_key: 'K' } }, null).secret, { token: 't' });
});

test('every kind has at least one required field', () => {
  for (const kind of CREDENTIAL_KINDS)
    assert.ok(
      SECRET_FIELDS[kind].some((f) => f.required),
      kind,
    );
});
