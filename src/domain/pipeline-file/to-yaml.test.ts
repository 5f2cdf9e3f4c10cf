import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipelineToYaml } from './to-yaml.js';
import { parsePipelineFile } from './parse-pipeline-file.js';
import { validateSteps } from '../validate-steps.js';
import type { StepDefinition } from '../pipeline.js';

const steps: StepDefinition[] = [
  { name: 'checkout', type: 'git_checkout', config: { repository: 'https://github.com/o/r.git', branch: 'main' } },
  { name: 'build', type: 'shell_command', config: { command: 'npm ci\nnpm run build # "quoted" and: colons', working_directory: 'app' }, env: { NODE: '22' } },
  { name: 'lint', type: 'shell_command', config: { command: '22' }, parallel_group: 'checks', timeout_seconds: 60, retries: 1 },
  { name: 'unit', type: 'shell_command', config: { command: 'make test' }, parallel_group: 'checks', continue_on_error: true, runs_on: ['linux'] },
  {
    name: 'deploy',
    type: 'ansible_playbook',
    config: { playbook: 'site.yml', inventory: 'hosts' },
    credential: 'deploy-key',
    network: 'none',
    limits: { memory: '1g' },
    when: { status: 'success' },
  },
];

test('export → parse gives the same steps back (defaults filled on both sides as a save does)', async () => {
  assert.deepEqual(validateSteps(steps, { allowLocal: false }), {});
  const text = pipelineToYaml({ name: 'web', steps, variables: {} });
  const parsed = await parsePipelineFile(text, { path: '.ansflow.yml' });
  assert.deepEqual(parsed.errors, []);
  assert.deepEqual(parsed.steps, steps);
});

test('a graph of needs round-trips too', async () => {
  const graph: StepDefinition[] = [
    { name: 'a', type: 'shell_command', config: { command: 'x', shell: 'bash' }, needs: [] },
    { name: 'b', type: 'shell_command', config: { command: 'y', shell: 'bash' }, needs: ['a'], when: { status: 'always' } },
  ];
  assert.deepEqual((await parsePipelineFile(pipelineToYaml({ steps: graph }), { path: 'x.yml' })).steps, graph);
});

test('shell steps become run:, the schema line and the name head the file, secret variables are named but not written', () => {
  const text = pipelineToYaml(
    {
      name: 'web',
      steps: steps.slice(2, 3),
      variables: { REGION: { value: 'eu', secret: false }, TOKEN: { value: 'hunter2-secret', secret: true } },
    },
    { schemaUrl: 'https://ci.example.com/api/schemas/pipeline-file.json' },
  );
  assert.ok(
    text.startsWith('# yaml-language-server: $schema=https://ci.example.com/api/schemas/pipeline-file.json\n# Exported from the AnsFlow pipeline "web".\n'),
    text,
  );
  assert.match(text, /\n {4}run: "22"\n/);
  assert.match(text, /REGION: eu/);
  assert.match(text, /not exported: TOKEN/);
  assert.doesNotMatch(text, /hunter2/);
  assert.doesNotMatch(text, /type: shell_command/);
});

test('a name with a line break cannot end the comment and start YAML', async () => {
  const text = pipelineToYaml({ name: 'x\nsteps: []', steps: steps.slice(2, 3) });
  assert.equal((await parsePipelineFile(text, { path: 'x.yml' })).steps.length, 1);
});
