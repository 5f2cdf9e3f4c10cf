import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResolvedCredential } from '../../domain/credentials.js';
import type { Run } from '../../store/runs-repository.js';
import { runCredentials, type CredentialSource } from './credential-source.js';

function runWith(steps: Array<{ credential?: string }>, secretsWithheld: string | null = null): Run {
  const definition = { steps: steps.map((s, i) => ({ name: `s${i}`, type: 'shell_command', config: { command: 'true' }, ...s })) };
  return { definition, secrets_withheld: secretsWithheld } as unknown as Run;
}

class RecordingSource implements CredentialSource {
  readonly asked: string[][] = [];
  constructor(private readonly stored: ResolvedCredential[]) {}
  async open(names: string[]) {
    this.asked.push(names);
    return this.stored.filter((c) => names.includes(c.name));
  }
}

const deploy: ResolvedCredential = { name: 'deploy', secret: { kind: 'token', value: { token: 'tok-1234' } } };

test('opens only the credentials the steps name, once each, keyed by name; a name with none is absent', async () => {
  const source = new RecordingSource([deploy, { name: 'unused', secret: { kind: 'token', value: { token: 'other' } } }]);
  const spec = await runCredentials(runWith([{ credential: 'deploy' }, {}, { credential: 'deploy' }, { credential: 'missing' }]), source);
  assert.deepEqual(source.asked, [['deploy', 'missing']]);
  assert.deepEqual(spec, { credentials: { deploy } });
});

test('a run whose steps name no credential opens nothing', async () => {
  const source = new RecordingSource([deploy]);
  assert.deepEqual(await runCredentials(runWith([{}, {}]), source), {});
  assert.deepEqual(source.asked, []);
});

test('a run with secrets withheld (a fork) opens nothing and says why', async () => {
  const source = new RecordingSource([deploy]);
  const spec = await runCredentials(runWith([{ credential: 'deploy' }], 'pull request from a fork'), source);
  assert.deepEqual(spec, { credentialsWithheld: 'pull request from a fork' });
  assert.deepEqual(source.asked, []);
});

test('without a credential source every named credential is missing', async () => {
  assert.deepEqual(await runCredentials(runWith([{ credential: 'deploy' }]), undefined), { credentials: {} });
});

test('Ansible steps: their stored inventory is opened, then the credentials it and the step name', async () => {
  const source = new RecordingSource([deploy]);
  const inventory = {
    name: 'prod',
    format: 'ini' as const,
    content: '[web]\nh\n',
    ssh_credential: 'deploy',
    become_credential: 'sudo',
    vault_credentials: ['v1'],
  };
  const askedInventories: string[][] = [];
  const inventories = {
    async open(names: string[]) {
      askedInventories.push(names);
      return names.includes('prod') ? [inventory] : [];
    },
  };
  const run = {
    definition: { steps: [{ name: 'deploy', type: 'ansible_playbook', config: { playbook: 'site.yml', inventory_name: 'prod', vault_credentials: ['v2'] } }] },
    secrets_withheld: null,
  } as unknown as Run;
  const spec = await runCredentials(run, source, inventories);
  assert.deepEqual(askedInventories, [['prod']]);
  assert.deepEqual(source.asked, [['deploy', 'sudo', 'v1', 'v2']]);
  assert.deepEqual(spec, { credentials: { deploy }, inventories: { prod: inventory } });
  const withheld = await runCredentials({ ...run, secrets_withheld: 'fork' } as Run, source, inventories);
  assert.deepEqual(withheld, { credentialsWithheld: 'fork' }, 'a fork gets no inventory either');
});
