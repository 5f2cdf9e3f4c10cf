import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnsibleInventoryParser } from './inventory-parser.js';
import { makeToolSandbox } from './tool-sandbox.js';

const INI = `[web]
web1 ansible_host=127.0.0.1 ansible_port=2201 ansible_password=s3cret
web2 ansible_host=127.0.0.2

[db]
db1 role=primary

[prod:children]
web
db

[all:vars]
region=eu
`;

const YAML = `all:
  vars:
    region: eu
  children:
    web:
      hosts:
        web1: { ansible_port: 2201 }
    db:
      hosts:
        db1:
          marker: "{{ lookup('pipe', 'touch /tmp/ansflow-pwned') }}"
`;

const dataDir = mkdtempSync(join(tmpdir(), 'ansflow-parser-data-'));
const sandbox = makeToolSandbox({ enabled: true, dataDir, uid: 61000, extraHidden: [] });
const parsers = { sandboxed: new AnsibleInventoryParser({ sandbox }), direct: new AnsibleInventoryParser({ sandbox: null }) };

test.after(() => rmSync(dataDir, { recursive: true, force: true }));

test('the sandbox is available here', () => {
  assert.ok(sandbox && !('unavailable' in sandbox), JSON.stringify(sandbox));
});

for (const [how, parser] of Object.entries(parsers)) {
  test(`${how}: INI hosts with their groups (through children) and variables (group vars merged)`, async () => {
    const r = await parser.parse(INI, 'ini');
    assert.ok(r.ok, JSON.stringify(r));
    const byName = Object.fromEntries(r.inventory.hosts.map((h) => [h.name, h]));
    assert.deepEqual(Object.keys(byName), ['db1', 'web1', 'web2']);
    assert.deepEqual(byName.web1!.groups, ['prod', 'web']);
    assert.deepEqual(byName.db1!.groups, ['db', 'prod']);
    assert.equal(byName.web1!.vars.ansible_port, 2201);
    assert.equal(byName.web1!.vars.region, 'eu');
    assert.equal(byName.db1!.vars.role, 'primary');
    assert.deepEqual(r.inventory.groups.find((g) => g.name === 'prod')?.children, ['web', 'db']);
  });

  test(`${how}: YAML, with Jinja left as written (nothing is evaluated)`, async () => {
    const r = await parser.parse(YAML, 'yaml');
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(
      r.inventory.hosts.map((h) => [h.name, h.groups]),
      [
        ['db1', ['db']],
        ['web1', ['web']],
      ],
    );
    assert.match(String(r.inventory.hosts[0]!.vars.marker), /lookup/);
  });

  test(`${how}: a syntax error names its line`, async () => {
    const ini = await parser.parse('[web]\nweb1\n[web:vars]\nbroken\n', 'ini');
    assert.ok(!ini.ok);
    assert.equal(ini.line, 4, ini.message);
    assert.match(ini.message, /Expected key=value/);
    assert.ok(!ini.message.includes('ansflow-inventory-'), 'no temporary path in the message');
    const yaml = await parser.parse('all:\n  hosts:\n    a:\n      x: 1\n   b: [\n', 'yaml');
    assert.ok(!yaml.ok);
    assert.equal(yaml.line, 5, yaml.message);
  });

  test(`${how}: YAML text given as INI (and the other way) is refused, not guessed`, async () => {
    assert.equal((await parser.parse(YAML, 'ini')).ok, false);
    assert.equal((await parser.parse('[web]\nweb1 a=b\n', 'yaml')).ok, false);
  });
}

test('sandboxed: a YAML inventory naming a plugin runs nothing (only the yaml plugin is enabled)', async () => {
  const r = await parsers.sandboxed.parse("plugin: ansible.builtin.constructed\ncompose:\n  x: lookup('pipe', 'id')\n", 'yaml');
  assert.equal(r.ok, false);
});
