/**
 * The Ansible step against real hosts: three sshd servers on loopback (each its own host key,
 * the credential's key authorized) and a fourth host on a closed port. A stored inventory and an
 * ssh_key credential with known_hosts; per-host events as the playbook runs; unreachable apart
 * from failed; check mode and diff; limit and tags; a vault-encrypted variable opened with its
 * credential and never printed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeEngineHarness, makeSpec, RecordingReporter, runWith, shell, type EngineHarness } from '../../../test/support/engine-harness.js';
import { makeSshKey } from '../../../test/support/ssh-keys.js';
import { startSshHosts, type SshHosts } from '../../../test/support/ssh-hosts.js';
import { sshServerMissing } from '../../../test/support/ssh-git-server.js';
import type { AnsibleEvent } from '../../domain/ansible-events.js';
import { summariseAnsibleEvents } from '../../domain/ansible-events.js';
import type { ResolvedCredential } from '../../domain/credentials.js';
import type { RunReporter, RunSpec } from '../ports.js';

class EventsReporter extends RecordingReporter {
  readonly ansible: AnsibleEvent[] = [];
  async ansibleEvents(e: Parameters<NonNullable<RunReporter['ansibleEvents']>>[0]) {
    this.ansible.push(...e.events);
  }
}

const VAULT_PASSWORD = 'vault-pass-for-tests';
const SECRET_VALUE = 'the-vaulted-secret-42';

const skip = sshServerMissing();

describe('ansible_playbook against real sshd hosts', { skip: skip ?? false }, () => {
  let hosts: SshHosts;
  let h: EngineHarness;
  let out: string;
  let credentials: Record<string, ResolvedCredential>;
  const key = makeSshKey();

  before(async () => {
    hosts = await startSshHosts(3, key.publicKey);
    h = makeEngineHarness();
    out = mkdtempSync(join(tmpdir(), 'ansflow-targets-'));
    credentials = {
      'deploy-key': {
        name: 'deploy-key',
        secret: { kind: 'ssh_key', value: { private_key: key.privateKey, known_hosts: hosts.knownHosts, username: hosts.user } },
      },
      vault: { name: 'vault', secret: { kind: 'ansible_vault_password', value: { password: VAULT_PASSWORD, vault_id: 'prod' } } },
    };
  });
  after(async () => {
    await hosts?.stop();
    h?.cleanup();
    rmSync(out, { recursive: true, force: true });
  });

  const PLAYBOOK = (dir: string) => `
- hosts: all
  gather_facts: false
  tasks:
    - name: make the host's folder
      file: { path: "${dir}/{{ inventory_hostname }}", state: directory }
      tags: [setup]
    - name: write the release file
      copy: { dest: "${dir}/{{ inventory_hostname }}/release", content: "release {{ release }}\\n" }
      tags: [deploy]
    - name: nothing to do on db hosts
      command: /bin/true
      when: "'web' in group_names"
      tags: [deploy]
`;

  function spec(dir: string, config: Record<string, unknown>, extra: Partial<RunSpec> = {}) {
    return makeSpec(
      [
        shell('prepare', `cat > site.yml <<'YAML'\n${PLAYBOOK(dir)}\nYAML`),
        { name: 'deploy', type: 'ansible_playbook', config: { playbook: 'site.yml', inventory_name: 'prod', extra_vars: { release: '1.0' }, ...config } },
      ],
      {
        credentials,
        inventories: {
          prod: { name: 'prod', format: 'ini', content: hosts.inventory(), ssh_credential: 'deploy-key', become_credential: null, vault_credentials: [] },
        },
        ...extra,
      },
    );
  }

  test('changes files on every reachable host; the closed one is unreachable, not failed; per-host events and recap', async () => {
    const dir = mkdtempSync(join(out, 'run-'));
    const reporter = new EventsReporter();
    const s = spec(dir, {});
    const { outcome, stepLog } = await runWith(h, s, { reporter });
    const log = await stepLog(1);
    assert.equal(outcome.status, 'failed', 'an unreachable host fails the playbook');
    for (const host of hosts.hosts) assert.equal(readFileSync(join(dir, host.name, 'release'), 'utf8'), 'release 1.0\n', `${host.name}\n${log}`);
    assert.ok(!existsSync(join(dir, 'ghost')));
    const summary = summariseAnsibleEvents(reporter.ansible);
    assert.equal(summary.finished, true);
    assert.deepEqual(summary.hosts, ['db1', 'db2', 'ghost', 'web1']);
    assert.equal(summary.recap.ghost!.unreachable, 1);
    assert.equal(summary.recap.ghost!.failed, 0, 'unreachable is not failed');
    assert.equal(summary.recap.web1!.changed, 3, 'folder, file and the command');
    assert.equal(summary.recap.db1!.skipped, 1);
    const [folder, release, noop] = summary.tasks;
    assert.equal(folder!.name, "make the host's folder");
    assert.equal(folder!.hosts.ghost!.status, 'unreachable');
    assert.match(folder!.hosts.ghost!.message ?? '', /Connection refused|connect to host/);
    assert.equal(release!.hosts.web1!.status, 'changed');
    assert.equal(noop!.hosts.db2!.status, 'skipped');
    assert.equal(noop!.hosts.web1!.status, 'changed');
    assert.ok(typeof release!.hosts.web1!.duration_ms === 'number');
    // The log is Ansible's own, as before.
    assert.match(log, /PLAY RECAP/);
    assert.match(log, /--inventory=\$HOME\/\.ansflow\/ansible\/\d+\/inventory\.ini/);
    assert.match(log, /--extra-vars=\{"release":"1\.0"\}/);
  });

  test('an unknown host key is refused (known_hosts is checked)', async () => {
    const dir = mkdtempSync(join(out, 'run-'));
    const reporter = new EventsReporter();
    const stranger = {
      ...credentials['deploy-key']!,
      secret: { kind: 'ssh_key' as const, value: { private_key: key.privateKey, known_hosts: '', username: hosts.user } },
    };
    const s = spec(dir, { limit: 'web1' }, { credentials: { ...credentials, 'deploy-key': stranger } });
    const { outcome } = await runWith(h, s, { reporter });
    assert.equal(outcome.status, 'failed');
    const summary = summariseAnsibleEvents(reporter.ansible);
    assert.equal(summary.recap.web1!.unreachable, 1);
    assert.match(summary.tasks[0]!.hosts.web1!.message ?? '', /Host key verification failed/);
    assert.ok(!existsSync(join(dir, 'web1')));
  });

  test('check mode changes nothing and says what would change; diff shows the change', async () => {
    const dir = mkdtempSync(join(out, 'run-'));
    const reporter = new EventsReporter();
    const { stepLog } = await runWith(h, spec(dir, { check_mode: true, diff: true, limit: 'web1' }), { reporter });
    const log = await stepLog(1);
    assert.ok(!existsSync(join(dir, 'web1')), 'check mode wrote nothing');
    const summary = summariseAnsibleEvents(reporter.ansible);
    assert.equal(summary.tasks[0]!.hosts.web1!.status, 'changed', 'would change');
    assert.match(log, /--check --diff/);
    assert.match(log, /\+release 1\.0/, 'the diff of the file');
  });

  test('limit and tags select what runs', async () => {
    const dir = mkdtempSync(join(out, 'run-'));
    const reporter = new EventsReporter();
    const { outcome } = await runWith(h, spec(dir, { limit: 'db', tags: ['setup'] }), { reporter });
    assert.equal(outcome.status, 'success');
    assert.ok(existsSync(join(dir, 'db1')) && existsSync(join(dir, 'db2')));
    assert.ok(!existsSync(join(dir, 'db1', 'release')), 'the deploy tag did not run');
    assert.ok(!existsSync(join(dir, 'web1')), 'web is outside the limit');
    assert.deepEqual(summariseAnsibleEvents(reporter.ansible).hosts, ['db1', 'db2']);
  });

  test('a vault-encrypted variable is opened with its credential and never printed', async () => {
    const dir = mkdtempSync(join(out, 'run-'));
    const passFile = join(out, 'vault-pass');
    writeFileSync(passFile, VAULT_PASSWORD);
    const encrypted = execFileSync('ansible-vault', ['encrypt_string', `--vault-id=prod@${passFile}`, '--name', 'secret_value', SECRET_VALUE], {
      encoding: 'utf8',
    });
    const playbook = `- hosts: web1\n  gather_facts: false\n  vars:\n${encrypted.replace(/^/gm, '    ')}\n  tasks:\n    - copy: { dest: "${dir}/vaulted", content: "{{ secret_value }}" }\n    - debug: { var: secret_value }\n`;
    const reporter = new EventsReporter();
    const s = makeSpec(
      [
        shell('prepare', `cat > vaulted.yml <<'YAML'\n${playbook}\nYAML`),
        { name: 'deploy', type: 'ansible_playbook', config: { playbook: 'vaulted.yml', inventory_name: 'prod', vault_credentials: ['vault'] } },
      ],
      { credentials, inventories: spec(dir, {}).inventories! },
    );
    const { outcome, stepLog } = await runWith(h, s, { reporter });
    const log = await stepLog(1);
    assert.equal(outcome.status, 'success', log);
    assert.equal(readFileSync(join(dir, 'vaulted'), 'utf8'), SECRET_VALUE);
    assert.ok(!log.includes(VAULT_PASSWORD), 'the vault password is not in the log');
    assert.match(log, /--vault-id=prod@\$HOME\/\.ansflow\/ansible\/\d+\/vault-0/);
    assert.ok(!JSON.stringify(reporter.ansible).includes(VAULT_PASSWORD));
  });
});
