import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeEngineHarness, makeSpec, runWith } from '../../../test/support/engine-harness.js';
import { buildAnsibleArgs } from './ansible-playbook.js';
import { makeTempDir } from '../../../test/support/git-fixtures.js';

const PLAYBOOK = `
- hosts: all
  gather_facts: false
  tasks:
    - name: say hello
      debug:
        msg: "hello {{ who }}"
      tags: [greet]
    - name: write a file
      copy:
        dest: "{{ out }}"
        content: "written by ansible\\n"
      tags: [write]
`;

function setup(): string {
  return `cat > site.yml <<'YAML'\n${PLAYBOOK}\nYAML\nprintf '[web]\\nlocalhost ansible_connection=local ansible_python_interpreter=auto_silent\\n' > hosts.ini`;
}

test('runs a real playbook against localhost (local connection) with extra vars, tags and an inventory file', async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([
      { name: 'prepare', type: 'shell_command', config: { command: setup() } },
      {
        name: 'deploy',
        type: 'ansible_playbook',
        config: { playbook: 'site.yml', inventory: 'hosts.ini', extra_vars: { who: 'AnsFlow', out: 'out.txt' }, tags: ['greet', 'write'], limit: 'web' },
      },
      {
        name: 'dry-run',
        type: 'ansible_playbook',
        config: { playbook: 'site.yml', inventory: 'localhost,', extra_vars: { who: 'x', out: 'dry.txt', ansible_connection: 'local' }, check_mode: true },
      },
    ]);
    const { outcome, stepLog, reporter } = await runWith(h, spec);
    const log = await stepLog(1);
    assert.equal(outcome.status, 'success', log + (await stepLog(2)));
    assert.match(
      log,
      /^\$ ansible-playbook --inventory=\/\S+hosts\.ini --extra-vars=\{"who":"AnsFlow","out":"out\.txt"\} --limit=web --tags=greet,write -- site\.yml$/m,
    );
    assert.match(log, /"msg": "hello AnsFlow"/);
    assert.ok(!log.includes('\u001b['), 'no colour codes');
    const ws = (reporter.events[0] as { workspace: string }).workspace;
    assert.equal(readFileSync(join(ws, 'out.txt'), 'utf8'), 'written by ansible\n');
    assert.equal(existsSync(join(ws, 'dry.txt')), false, '--check changes nothing');
    assert.equal(existsSync(join(ws, '.ansible')), false, 'ansible state stays out of the workspace');
  } finally {
    h.cleanup();
  }
});

test("a failing task fails the step with ansible-playbook's exit code", async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([
      {
        name: 'prepare',
        type: 'shell_command',
        config: { command: `printf -- '- hosts: all\\n  gather_facts: false\\n  tasks:\\n    - fail: {msg: nope}\\n' > bad.yml` },
      },
      { name: 'run', type: 'ansible_playbook', config: { playbook: 'bad.yml', inventory: 'localhost,', extra_vars: { ansible_connection: 'local' } } },
    ]);
    const { outcome, reporter } = await runWith(h, spec);
    assert.equal(outcome.status, 'failed');
    assert.equal(reporter.finished(spec.steps[1]!.stepId)?.exitCode, 2);
  } finally {
    h.cleanup();
  }
});

test('argv: every option carries its value in one argument and the playbook follows --', async () => {
  const tmp = makeTempDir('ansflow-ansible-');
  try {
    mkdirSync(join(tmp.path, 'pb'));
    writeFileSync(join(tmp.path, 'pb', 'site.yml'), '- hosts: all\n');
    const built = await buildAnsibleArgs(
      { playbook: 'pb/site.yml', inventory: 'a,b', limit: 'a', tags: ['x'], check_mode: true, extra_vars: { k: '--v' } },
      tmp.path,
    );
    assert.ok('args' in built);
    // extra_vars go to a file (`--extra-vars=@file`, written by the executor), never into argv.
    assert.deepEqual(built.args, ['--inventory=a,b', '--limit=a', '--tags=x', '--check', '--', join(tmp.path, 'pb', 'site.yml')]);
    assert.deepEqual(built.extraVars, { k: '--v' });
    assert.deepEqual(built.shown, ['--inventory=a,b', '--extra-vars={"k":"--v"}', '--limit=a', '--tags=x', '--check', '--', 'pb/site.yml']);
  } finally {
    tmp.cleanup();
  }
});

test('refuses playbooks and inventories outside the workspace, option-like values and missing files', async () => {
  const tmp = makeTempDir('ansflow-ansible-');
  try {
    writeFileSync(join(tmp.path, 'site.yml'), '- hosts: all\n');
    const problems = await Promise.all([
      buildAnsibleArgs({ playbook: '../../etc/passwd' }, tmp.path),
      buildAnsibleArgs({ playbook: '/etc/passwd' }, tmp.path),
      buildAnsibleArgs({ playbook: 'missing.yml' }, tmp.path),
      buildAnsibleArgs({ playbook: 'site.yml', inventory: '../hosts' }, tmp.path),
      buildAnsibleArgs({ playbook: 'site.yml', inventory: '-i/etc/hosts' }, tmp.path),
      buildAnsibleArgs({ playbook: 'site.yml', inventory: 'nohosts' }, tmp.path),
      buildAnsibleArgs({ playbook: 'site.yml', limit: '--foo' }, tmp.path),
      buildAnsibleArgs({ playbook: 'site.yml', tags: ['a b'] }, tmp.path),
    ]);
    for (const p of problems) assert.ok('problem' in p, JSON.stringify(p));
  } finally {
    tmp.cleanup();
  }
});
