/**
 * The credentials API against the real server: every route and kind, bad input named per field,
 * roles, the link to pipelines (steps must name an existing credential; a used one is kept unless
 * forced), and write-only values: no response body, error or not, ever holds a secret.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness, type RequestOptions, type TestResponse } from '../support/api-harness.js';
import { makeSshKey, type TestSshKey } from '../support/ssh-keys.js';
/** Credentials created without a project are in the `default` project, the first one (migration 009). */
const DEFAULT_PROJECT_ID = 1;

const PASSPHRASE = 'correct horse battery';
const KNOWN_HOSTS = 'git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n# a comment\n\n';

describe('credentials API', () => {
  let h: Harness;
  let admin: string;
  let plainKey: TestSshKey;
  let lockedKey: TestSshKey;
  const responses: TestResponse[] = [];
  /** Every value sent as a secret in this file; none may come back in any response. */
  const secrets = new Set<string>();

  const call = async (method: string, path: string, options: RequestOptions = {}) => {
    const r = await h.request(method, path, options);
    responses.push(r);
    return r;
  };
  const create = (body: Record<string, unknown>, token = admin) => {
    const secret = body.secret as Record<string, unknown> | undefined;
    for (const [field, v] of Object.entries(secret ?? {}))
      if (typeof v === 'string' && v.length >= 6 && !['filename', 'username', 'encoding', 'vault_id'].includes(field)) secrets.add(v);
    return call('POST', '/api/credentials/', { token, body });
  };

  before(async () => {
    h = await startApi();
    admin = await h.login();
    plainKey = makeSshKey();
    lockedKey = makeSshKey({ type: 'rsa', passphrase: PASSPHRASE, format: 'PEM' });
  });
  after(async () => {
    await h.close();
  });

  test('ssh_key: created from an OpenSSH key, answered with its fingerprint and metadata only', async () => {
    const r = await create({
      name: 'deploy-key',
      kind: 'ssh_key',
      description: 'prod deploys',
      secret: { private_key: plainKey.privateKey, known_hosts: KNOWN_HOSTS },
    });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(Object.keys(r.json).sort(), [
      'created_at',
      'created_by',
      'description',
      'fingerprint',
      'id',
      'kind',
      'name',
      'project_id',
      'updated_at',
      'updated_by',
      'used_by',
    ]);
    assert.equal(r.json.fingerprint, plainKey.fingerprint);
    assert.deepEqual(r.json.created_by, { id: 1, username: 'admin' });
    assert.deepEqual(r.json.used_by, []);
    const got = await call('GET', `/api/credentials/${r.json.id}/`, { token: admin });
    assert.equal(got.status, 200);
    assert.equal(got.json.fingerprint, plainKey.fingerprint);
    const [opened] = await h.ctx.repos.credentials.open(['deploy-key'], DEFAULT_PROJECT_ID);
    assert.equal(opened!.secret.kind, 'ssh_key');
    assert.equal((opened!.secret.value as { private_key: string }).private_key, plainKey.privateKey, 'the key is stored as ssh reads it');
  });

  test('ssh_key: an encrypted PEM key needs its passphrase; a wrong or missing one is named', async () => {
    const ok = await create({ name: 'locked-key', kind: 'ssh_key', secret: { private_key: lockedKey.privateKey, passphrase: PASSPHRASE } });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.json.fingerprint, lockedKey.fingerprint);
    const wrong = await create({ name: 'locked-2', kind: 'ssh_key', secret: { private_key: lockedKey.privateKey, passphrase: 'not the passphrase' } });
    assert.equal(wrong.status, 400);
    assert.deepEqual(Object.keys(wrong.json.error.details), ['secret.passphrase']);
    const missing = await create({ name: 'locked-3', kind: 'ssh_key', secret: { private_key: lockedKey.privateKey } });
    assert.equal(missing.status, 400);
    assert.match(missing.json.error.details['secret.passphrase'][0], /encrypted/);
    const pkcs8 = makeSshKey({ type: 'ecdsa', format: 'PKCS8' });
    const third = await create({ name: 'ecdsa-key', kind: 'ssh_key', secret: { private_key: pkcs8.privateKey.replace(/\n/g, '\r\n') } });
    assert.equal(third.status, 201, third.text);
    assert.equal(third.json.fingerprint, pkcs8.fingerprint, 'CRLF line ends are read as ssh would');
  });

  test('bad input is a 400 naming each field, for every kind', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: 'bad key', kind: 'token', secret: { token: 'abcdef-1' } }, 'name'],
      [{ name: 'k1', kind: 'password', secret: { token: 'abcdef-1' } }, 'kind'],
      [{ name: 'k1', kind: 'token' }, 'secret'],
      [{ name: 'k1', kind: 'token', secret: { token: 'abcdef-1' }, extra: 1 }, 'extra'],
      [{ name: 'k1', kind: 'ssh_key', secret: { private_key: 'not-a-key-at-all-1234' } }, 'secret.private_key'],
      [{ name: 'k1', kind: 'ssh_key', secret: {} }, 'secret.private_key'],
      [{ name: 'k1', kind: 'ssh_key', secret: { private_key: plainKey.privateKey, known_hosts: 'just-one-field\n' } }, 'secret.known_hosts'],
      [{ name: 'k1', kind: 'ssh_key', secret: { private_key: plainKey.privateKey, known_hosts: 'host ssh-ed25519 not*base64' } }, 'secret.known_hosts'],
      [{ name: 'k1', kind: 'ssh_key', secret: { private_key: plainKey.privateKey, comment: 'x' } }, 'secret.comment'],
      [{ name: 'k1', kind: 'username_password', secret: { username: 'bot' } }, 'secret.password'],
      [{ name: 'k1', kind: 'username_password', secret: { username: 'bot', password: 12345678 } }, 'secret.password'],
      [{ name: 'k1', kind: 'token', secret: { token: '' } }, 'secret.token'],
      [{ name: 'k1', kind: 'token', secret: { password: 'pw-123456' } }, 'secret.password'],
      [{ name: 'k1', kind: 'secret_file', secret: { content: 'not base64 !!', encoding: 'base64' } }, 'secret.content'],
      [{ name: 'k1', kind: 'secret_file', secret: { content: 'abc', filename: '../etc/passwd' } }, 'secret.filename'],
      [{ name: 'k1', kind: 'secret_file', secret: { content: 'abc', encoding: 'hex' } }, 'secret.encoding'],
      [{ name: 'k1', kind: 'ansible_vault_password', secret: { password: 'vault-pw-1', vault_id: 'a b' } }, 'secret.vault_id'],
      [{ name: 'k1', kind: 'ansible_vault_password', secret: {} }, 'secret.password'],
    ];
    for (const [body, field] of cases) {
      const r = await create(body);
      assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${r.text}`);
      assert.equal(r.json.error.code, 'VALIDATION_ERROR');
      assert.ok(field in r.json.error.details, `${field} expected in ${JSON.stringify(r.json.error.details)}`);
    }
    const none = await call('GET', '/api/credentials/?search=k1', { token: admin });
    assert.equal(none.json.count, 0, 'nothing bad was stored');
  });

  test('the other kinds: username_password, token, secret_file, ansible_vault_password', async () => {
    const made = [
      await create({ name: 'git-login', kind: 'username_password', secret: { username: 'bot', password: 'pw-login-42' } }),
      await create({ name: 'gh-token', kind: 'token', secret: { token: 'ghp_tokenvalue_1234' } }),
      await create({
        name: 'kubeconfig',
        kind: 'secret_file',
        secret: { content: Buffer.from('apiVersion: v1\nsecret-bytes-99').toString('base64'), encoding: 'base64', filename: 'config' },
      }),
      await create({ name: 'vault-pw', kind: 'ansible_vault_password', secret: { password: 'vault-pass-123', vault_id: 'prod' } }),
    ];
    for (const r of made) {
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.fingerprint, null);
    }
    const list = await call('GET', '/api/credentials/?page_size=100', { token: admin });
    assert.equal(list.status, 200);
    assert.ok(list.json.results.length >= 7);
    const tokens = await call('GET', '/api/credentials/?kind=token', { token: admin });
    assert.deepEqual(
      tokens.json.results.map((c: { name: string }) => c.name),
      ['gh-token'],
    );
    const [file] = await h.ctx.repos.credentials.open(['kubeconfig'], DEFAULT_PROJECT_ID);
    assert.deepEqual(file!.secret, {
      kind: 'secret_file',
      value: { content: Buffer.from('apiVersion: v1\nsecret-bytes-99').toString('base64'), encoding: 'base64', filename: 'config' },
    });
  });

  test('a duplicate name, in any case, is a 409 naming the field', async () => {
    const r = await create({ name: 'GH-TOKEN', kind: 'token', secret: { token: 'other-token-777' } });
    assert.equal(r.status, 409);
    assert.equal(r.json.error.code, 'RESOURCE_CONFLICT');
    assert.ok('name' in r.json.error.details);
  });

  test('PUT: without a secret keeps it, a partial secret merges, a new kind needs the whole secret', async () => {
    const c = (await create({ name: 'rotating', kind: 'username_password', secret: { username: 'bot', password: 'first-pass-1' } })).json;
    const renamed = await call('PUT', `/api/credentials/${c.id}/`, {
      token: admin,
      body: { name: 'rotating-2', kind: 'username_password', description: 'now described' },
    });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.json.description, 'now described');
    assert.deepEqual((await h.ctx.repos.credentials.open(['rotating-2'], DEFAULT_PROJECT_ID))[0]!.secret.value, { username: 'bot', password: 'first-pass-1' });

    secrets.add('second-pass-2');
    const merged = await call('PUT', `/api/credentials/${c.id}/`, {
      token: admin,
      body: { name: 'rotating-2', kind: 'username_password', secret: { password: 'second-pass-2' } },
    });
    assert.equal(merged.status, 200, merged.text);
    assert.deepEqual((await h.ctx.repos.credentials.open(['rotating-2'], DEFAULT_PROJECT_ID))[0]!.secret.value, { username: 'bot', password: 'second-pass-2' });

    const noSecret = await call('PUT', `/api/credentials/${c.id}/`, { token: admin, body: { name: 'rotating-2', kind: 'token' } });
    assert.equal(noSecret.status, 400);
    assert.ok('secret' in noSecret.json.error.details);
    const partial = await call('PUT', `/api/credentials/${c.id}/`, { token: admin, body: { name: 'rotating-2', kind: 'token', secret: { username: 'x' } } });
    assert.equal(partial.status, 400);
    assert.ok('secret.token' in partial.json.error.details, 'a new kind does not merge with the old fields');

    const toKey = await call('PUT', `/api/credentials/${c.id}/`, {
      token: admin,
      body: { name: 'rotating-2', kind: 'ssh_key', secret: { private_key: plainKey.privateKey } },
    });
    assert.equal(toKey.status, 200, toKey.text);
    assert.equal(toKey.json.kind, 'ssh_key');
    assert.equal(toKey.json.fingerprint, plainKey.fingerprint);
    const badPass = await call('PUT', `/api/credentials/${c.id}/`, {
      token: admin,
      body: { name: 'rotating-2', kind: 'ssh_key', secret: { private_key: lockedKey.privateKey, passphrase: 'wrong-one-9' } },
    });
    assert.equal(badPass.status, 400);
    assert.ok('secret.passphrase' in badPass.json.error.details);
    assert.equal((await call('GET', `/api/credentials/${c.id}/`, { token: admin })).json.fingerprint, plainKey.fingerprint, 'a refused PUT changed nothing');

    assert.equal((await call('PUT', `/api/credentials/${c.id}/`, { token: admin, body: { name: 'deploy-key', kind: 'ssh_key' } })).status, 409);
    assert.equal((await call('PUT', '/api/credentials/99999/', { token: admin, body: { name: 'zz', kind: 'token' } })).status, 404);
    assert.equal((await call('GET', '/api/credentials/99999/', { token: admin })).status, 404);
  });

  test('pipelines: a step may only name an existing credential; a used one is kept on delete unless forced', async () => {
    const step = (credential: string) => ({ name: 'deploy', type: 'shell_command', config: { command: 'true' }, credential });
    const missing = await call('POST', '/api/pipelines/', { token: admin, body: { name: 'uses-missing', steps: [step('no-such-credential')] } });
    assert.equal(missing.status, 400);
    assert.deepEqual(Object.keys(missing.json.error.details), ['steps[0].credential']);
    const p = await call('POST', '/api/pipelines/', { token: admin, body: { name: 'uses-token', steps: [step('GH-Token')] } });
    assert.equal(p.status, 201, p.text);
    const cred = (await call('GET', '/api/credentials/?search=gh-token', { token: admin })).json.results[0];
    assert.deepEqual(cred.used_by, [{ id: p.json.id, name: 'uses-token' }]);

    const refused = await call('DELETE', `/api/credentials/${cred.id}/`, { token: admin });
    assert.equal(refused.status, 409);
    assert.equal(refused.json.error.code, 'RESOURCE_CONFLICT');
    assert.deepEqual(refused.json.error.details.used_by, [{ id: p.json.id, name: 'uses-token' }]);
    assert.match(refused.json.error.message, /uses-token/);
    assert.equal((await call('DELETE', `/api/credentials/${cred.id}/?force=true`, { token: admin })).status, 204);
    assert.equal((await call('GET', `/api/credentials/${cred.id}/`, { token: admin })).status, 404);
    const unused = (await call('GET', '/api/credentials/?search=vault-pw', { token: admin })).json.results[0];
    assert.equal((await call('DELETE', `/api/credentials/${unused.id}/`, { token: admin })).status, 204);
  });

  test('roles: viewers read metadata only; developers change their own; admins all', async () => {
    const viewer = await h.userToken('cred-viewer', 'viewer');
    const dev = await h.userToken('cred-dev', 'developer');
    const other = await h.userToken('cred-dev2', 'developer');
    assert.equal((await call('GET', '/api/credentials/', { token: viewer })).status, 200);
    assert.equal((await create({ name: 'viewer-made', kind: 'token', secret: { token: 'viewer-token-1' } }, viewer)).status, 403);
    const mine = await create({ name: 'dev-made', kind: 'token', secret: { token: 'dev-token-123' } }, dev);
    assert.equal(mine.status, 201);
    const id = mine.json.id;
    assert.equal((await call('GET', `/api/credentials/${id}/`, { token: viewer })).status, 200);
    assert.equal((await call('PUT', `/api/credentials/${id}/`, { token: viewer, body: { name: 'dev-made', kind: 'token' } })).status, 403);
    assert.equal((await call('DELETE', `/api/credentials/${id}/`, { token: viewer })).status, 403);
    assert.equal((await call('PUT', `/api/credentials/${id}/`, { token: other, body: { name: 'hijack', kind: 'token' } })).status, 403);
    assert.equal((await call('DELETE', `/api/credentials/${id}/`, { token: other })).status, 403);
    const edited = await call('PUT', `/api/credentials/${id}/`, { token: admin, body: { name: 'dev-made', kind: 'token', description: 'by admin' } });
    assert.equal(edited.status, 200);
    assert.deepEqual(edited.json.updated_by, { id: 1, username: 'admin' });
    assert.equal((await call('DELETE', `/api/credentials/${id}/`, { token: dev })).status, 204);
    assert.equal((await call('GET', '/api/credentials/', {})).status, 401);
  });

  test('write-only: no response of this file, success or error, holds any secret value', () => {
    assert.ok(responses.length > 40);
    assert.ok(secrets.size >= 10);
    const keyLines = [plainKey.privateKey, lockedKey.privateKey].flatMap((k) => k.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')));
    for (const r of responses) {
      for (const s of [...secrets, PASSPHRASE, ...keyLines]) assert.ok(!r.text.includes(s), `a response holds a secret: ${r.status} ${r.text.slice(0, 200)}`);
      assert.ok(!r.text.includes('"secret"') || r.status === 400, 'no field named secret outside error details');
    }
  });
});
