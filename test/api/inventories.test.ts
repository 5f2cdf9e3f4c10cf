/**
 * The inventories API against the real server and Ansible's real parser: create and read, every
 * save a version (list, one, diff, restore), hosts with groups and masked secrets, syntax errors
 * as 400s naming the line, credentials checked by kind and project, the audit events written with
 * each change (never the content), and names unique per project.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { makeSshKey } from '../support/ssh-keys.js';

const V1 = `[web]
web1 ansible_host=127.0.0.1 ansible_port=2201 ansible_password=hunter2-secret
web2 ansible_host=127.0.0.1 ansible_port=2202

[db]
db1 ansible_host=127.0.0.1 db_token=tok-abcdef

[prod:children]
web
db
`;

const V2 = V1.replace('ansible_port=2202', 'ansible_port=2203');

describe('inventories API', () => {
  let h: Harness;
  let admin: string;
  let project: number;

  before(async () => {
    h = await startApi();
    admin = await h.login();
    const p = await h.request('POST', '/api/projects/', { token: admin, body: { name: 'ops' } });
    assert.equal(p.status, 201, p.text);
    project = p.json.id;
    const key = makeSshKey();
    for (const [name, kind, secret] of [
      ['deploy-key', 'ssh_key', { private_key: key.privateKey, username: 'root' }],
      ['sudo', 'username_password', { username: 'root', password: 'sudo-password-1' }],
      ['vault-prod', 'ansible_vault_password', { password: 'vault-password-1', vault_id: 'prod' }],
    ] as const) {
      const r = await h.request('POST', '/api/credentials/', { token: admin, body: { name, kind, secret, project } });
      assert.equal(r.status, 201, r.text);
    }
  });
  after(() => h?.close());

  let id = 0;

  test('create: parsed by Ansible, version 1, the credentials it connects with', async () => {
    const r = await h.request('POST', '/api/inventories/', {
      token: admin,
      body: {
        name: 'production',
        description: 'the fleet',
        format: 'ini',
        content: V1,
        project,
        ssh_credential: 'deploy-key',
        become_credential: 'sudo',
        vault_credentials: ['vault-prod'],
      },
    });
    assert.equal(r.status, 201, r.text);
    id = r.json.id;
    assert.equal(r.json.version, 1);
    assert.equal(r.json.host_count, 3);
    assert.equal(r.json.project_id, project);
    assert.equal(r.json.ssh_credential, 'deploy-key');
    assert.deepEqual(r.json.vault_credentials, ['vault-prod']);
    const got = await h.request('GET', `/api/inventories/${id}/`, { token: admin });
    assert.equal(got.status, 200);
    assert.equal(got.json.content, V1);
    const list = await h.request('GET', `/api/inventories/?project=${project}`, { token: admin });
    assert.deepEqual(
      list.json.results.map((i: { name: string }) => i.name),
      ['production'],
    );
  });

  test('hosts: every host with its groups (through children) and variables, secrets masked', async () => {
    const r = await h.request('GET', `/api/inventories/${id}/hosts/`, { token: admin });
    assert.equal(r.status, 200, r.text);
    const byName = Object.fromEntries(r.json.map((x: { name: string }) => [x.name, x]));
    assert.deepEqual(Object.keys(byName), ['db1', 'web1', 'web2']);
    assert.deepEqual(byName.web1.groups, ['prod', 'web']);
    assert.equal(byName.web1.vars.ansible_port, 2201);
    assert.equal(byName.web1.vars.ansible_password, '******');
    assert.equal(byName.db1.vars.db_token, '******');
    assert.equal(byName.web1.check, null, 'never checked');
    assert.ok(!r.text.includes('hunter2-secret') && !r.text.includes('tok-abcdef'));
  });

  test('a syntax error is a 400 naming the line; nothing is saved', async () => {
    const bad = await h.request('PUT', `/api/inventories/${id}/`, {
      token: admin,
      body: { name: 'production', format: 'ini', content: '[web]\nweb1\n[web:vars]\nnot-a-pair\n' },
    });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.json.error.code, 'VALIDATION_ERROR');
    assert.equal(bad.json.error.details.line, 4);
    assert.match(bad.json.error.details.content[0], /^line 4: Expected key=value/);
    const yaml = await h.request('POST', '/api/inventories/', {
      token: admin,
      body: { name: 'broken-yaml', format: 'yaml', content: 'all:\n  hosts:\n    a:\n      x: 1\n   b: [\n', project },
    });
    assert.equal(yaml.status, 400, yaml.text);
    assert.equal(yaml.json.error.details.line, 5);
    assert.equal((await h.request('GET', `/api/inventories/${id}/`, { token: admin })).json.version, 1);
  });

  test('bad fields are named: format, name, credentials of the wrong kind or another project', async () => {
    const base = { name: 'x1', format: 'ini', content: '[a]\nh1\n', project };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, format: 'toml' }, 'format'],
      [{ ...base, name: '-bad name' }, 'name'],
      [{ ...base, ssh_credential: 'sudo' }, 'ssh_credential'],
      [{ ...base, become_credential: 'missing' }, 'become_credential'],
      [{ ...base, vault_credentials: ['deploy-key'] }, 'vault_credentials[0]'],
      [{ ...base, content: '' }, 'content'],
    ];
    for (const [body, field] of cases) {
      const r = await h.request('POST', '/api/inventories/', { token: admin, body });
      assert.equal(r.status, 400, `${field}: ${r.text}`);
      assert.ok(Object.keys(r.json.error.details).includes(field), `${field}: ${r.text}`);
    }
    // Another project's credential is as if it did not exist.
    const other = await h.request('POST', '/api/projects/', { token: admin, body: { name: 'other' } });
    const r = await h.request('POST', '/api/inventories/', { token: admin, body: { ...base, project: other.json.id, ssh_credential: 'deploy-key' } });
    assert.equal(r.status, 400);
    assert.match(r.json.error.details.ssh_credential[0], /No credential named "deploy-key" in this project/);
  });

  test('every save is a version; a diff between two; restore writes a new version', async () => {
    const put = await h.request('PUT', `/api/inventories/${id}/`, {
      token: admin,
      body: { name: 'production', format: 'ini', content: V2, ssh_credential: 'deploy-key' },
    });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json.version, 2);
    assert.deepEqual(put.json.vault_credentials, []);
    const versions = await h.request('GET', `/api/inventories/${id}/versions/`, { token: admin });
    assert.deepEqual(
      versions.json.map((v: { version: number }) => v.version),
      [2, 1],
    );
    assert.equal(versions.json[1].content, V1);
    assert.deepEqual(versions.json[1].vault_credentials, ['vault-prod']);
    const diff = await h.request('GET', `/api/inventories/${id}/diff/?from=1&to=2`, { token: admin });
    assert.equal(diff.status, 200, diff.text);
    assert.match(diff.json.diff, /^--- version 1\n\+\+\+ version 2\n@@ /);
    assert.match(diff.json.diff, /\n-web2 ansible_host=127\.0\.0\.1 ansible_port=2202\n\+web2 ansible_host=127\.0\.0\.1 ansible_port=2203\n/);
    const restored = await h.request('POST', `/api/inventories/${id}/versions/1/restore/`, { token: admin });
    assert.equal(restored.status, 200, restored.text);
    assert.equal(restored.json.version, 3);
    assert.equal(restored.json.content, V1);
    assert.deepEqual(restored.json.vault_credentials, ['vault-prod']);
    assert.equal((await h.request('GET', `/api/inventories/${id}/versions/9/`, { token: admin })).status, 404);
    assert.equal((await h.request('GET', `/api/inventories/${id}/diff/?from=1&to=9`, { token: admin })).status, 404);
  });

  test('names are unique per project, case-insensitively; the same name in another project is fine', async () => {
    const dup = await h.request('POST', '/api/inventories/', { token: admin, body: { name: 'PRODUCTION', format: 'ini', content: '[a]\nh\n', project } });
    assert.equal(dup.status, 409, dup.text);
    const elsewhere = await h.request('POST', '/api/inventories/', { token: admin, body: { name: 'production', format: 'ini', content: '[a]\nh\n' } });
    assert.equal(elsewhere.status, 201, elsewhere.text);
  });

  test('audit: each change has its event, with the content redacted', async () => {
    const r = await h.request('GET', `/api/audit-events/?project=${project}`, { token: admin });
    assert.equal(r.status, 200, r.text);
    const events = (r.json.results as Array<{ action: string; target: { type: string; id: string }; diff: Record<string, unknown> }>).filter(
      (e) => e.target.type === 'inventory',
    );
    assert.deepEqual(events.map((e) => e.action).reverse(), ['inventory.create', 'inventory.update', 'inventory.restore']);
    assert.deepEqual(events[1]!.diff.version, { before: 1, after: 2 });
    assert.deepEqual(events[1]!.diff.content, { before: '******', after: '******' });
    assert.ok(!JSON.stringify(r.json).includes('hunter2-secret'));
  });

  test('delete is refused (409 naming them) while pipelines use it; allowed once none does', async () => {
    const current = (await h.request('GET', `/api/inventories/${id}/`, { token: admin })).json;
    const pipelines: number[] = [];
    for (const [name, inventory] of [
      ['deploy-web', current.name.toUpperCase()],
      ['deploy-db', current.name],
    ]) {
      const p = await h.request('POST', '/api/pipelines/', {
        token: admin,
        body: { name, project, steps: [{ name: 'deploy', type: 'ansible_playbook', config: { playbook: 'site.yml', inventory_name: inventory } }] },
      });
      assert.equal(p.status, 201, p.text);
      pipelines.push(p.json.id);
    }
    // A pipeline of another project naming an inventory of the same name does not hold this one.
    const other = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: { name: 'elsewhere', steps: [{ name: 'deploy', type: 'ansible_playbook', config: { playbook: 'site.yml', inventory_name: current.name } }] },
    });
    assert.equal(other.status, 201, other.text);
    const refused = await h.request('DELETE', `/api/inventories/${id}/`, { token: admin });
    assert.equal(refused.status, 409, refused.text);
    assert.match(refused.json.error.message, /used by pipelines "deploy-web", "deploy-db"/);
    assert.deepEqual(
      refused.json.error.details.used_by.map((p: { name: string }) => p.name),
      ['deploy-web', 'deploy-db'],
    );
    assert.equal((await h.request('GET', `/api/inventories/${id}/`, { token: admin })).status, 200, 'still there');
    for (const pipeline of pipelines) assert.equal((await h.request('DELETE', `/api/pipelines/${pipeline}/`, { token: admin })).status, 204);
  });

  test('delete removes it with its versions', async () => {
    const r = await h.request('DELETE', `/api/inventories/${id}/`, { token: admin });
    assert.equal(r.status, 204);
    assert.equal((await h.request('GET', `/api/inventories/${id}/`, { token: admin })).status, 404);
    assert.equal((await h.request('GET', `/api/inventories/${id}/versions/`, { token: admin })).status, 404);
    const audit = await h.request('GET', `/api/audit-events/?project=${project}`, { token: admin });
    assert.equal(audit.json.results[0].action, 'inventory.delete');
  });
});
