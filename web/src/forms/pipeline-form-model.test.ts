import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  SECRET_MASK,
  buildPayload,
  canonicalPath,
  changeStepType,
  emptyForm,
  errorMapFromDetails,
  formFromPipeline,
  isShownInline,
  moveItem,
  newStep,
  hasSandboxSettings,
  segmentSteps,
  stepFieldErrors,
  stepLimitErrors,
  variableErrors,
  type StepTypeInfo,
} from './pipeline-form-model';

const types: StepTypeInfo[] = [
  {
    id: 'git_checkout',
    name: 'Git Checkout',
    config_schema: {
      type: 'object',
      properties: { repository: { type: 'string' }, branch: { type: 'string', default: 'main' } },
      required: ['repository'],
    },
  },
  {
    id: 'shell_command',
    name: 'Shell Command',
    config_schema: { type: 'object', properties: { command: { type: 'string', format: 'textarea' } }, required: ['command'] },
  },
];

const stored = {
  name: 'Build',
  description: 'd',
  status: 'active',
  repository_url: 'https://github.com/u/r.git',
  branch: 'main',
  trigger_events: ['push'],
  variables: { PLAIN: 'x', TOKEN: { value: SECRET_MASK, secret: true } },
  steps: [
    { name: 'Checkout', type: 'git_checkout', config: { repository: 'https://github.com/u/r.git' } },
    { name: 'Lint', type: 'shell_command', config: { command: 'npm run lint' }, parallel_group: 'checks', retries: 2 },
    { name: 'Test', type: 'shell_command', config: { command: 'npm test' }, parallel_group: 'checks', timeout_seconds: 600 },
  ],
};

describe('loading a pipeline', () => {
  it("keeps a step's worker labels (runs_on) through a save, though the editor does not show them", () => {
    const withLabels = { ...stored, steps: [{ name: 'Deploy', type: 'shell_command', config: { command: 'make deploy' }, runs_on: ['ansible', 'eu'] }] };
    const { payload, errors } = buildPayload(formFromPipeline(withLabels, types), types);
    assert.deepEqual(errors, {});
    assert.deepEqual((payload as { steps: Array<{ runs_on?: string[] }> }).steps[0]!.runs_on, ['ansible', 'eu']);
  });

  it('keeps the launch inputs through a save (a PUT without them would remove them), and a copy has them too', () => {
    const inputs = [
      { name: 'region', type: 'choice' as const, options: ['eu', 'us'], default: 'eu' },
      { name: 'DRY_RUN', type: 'boolean' as const, required: true },
    ];
    assert.deepEqual(buildPayload(formFromPipeline({ ...stored, inputs }, types), types).payload.inputs, inputs);
    assert.deepEqual(buildPayload(formFromPipeline({ ...stored, inputs }, types, true), types).payload.inputs, inputs);
    assert.deepEqual(buildPayload(formFromPipeline(stored, types), types).payload.inputs, []);
  });

  it('edits launch inputs as text: options split by commas, defaults read as their type; bad names are named', () => {
    const form = formFromPipeline(stored, types);
    const row = (patch: Record<string, unknown>) => ({
      uid: 'x',
      name: 'A',
      type: 'string' as const,
      description: '',
      required: false,
      defaultText: '',
      optionsText: '',
      ...patch,
    });
    form.inputs = [
      row({ name: 'region', type: 'choice', optionsText: 'eu, us,, ', defaultText: 'us', description: ' where ' }),
      row({ name: 'N', type: 'number', defaultText: '2.5', required: true }),
      row({ name: 'DRY', type: 'boolean', defaultText: 'false' }),
      row({ name: 'NOTE', type: 'number', defaultText: 'ten' }),
    ];
    const { payload, errors } = buildPayload(form, types);
    assert.deepEqual(errors, {});
    assert.deepEqual(payload.inputs, [
      { name: 'region', type: 'choice', options: ['eu', 'us'], default: 'us', description: 'where' },
      { name: 'N', type: 'number', required: true, default: 2.5 },
      { name: 'DRY', type: 'boolean', default: false },
      { name: 'NOTE', type: 'number', default: 'ten' },
    ]);
    form.inputs = [row({ name: '1X' }), row({ name: 'B' }), row({ name: 'B' })];
    assert.deepEqual(Object.keys(buildPayload(form, types).errors).sort(), ['inputs[0].name', 'inputs[2].name']);
  });

  it("keeps a step's needs, when and env (pipelines as code) through a save, though the editor does not show them", () => {
    const asCode = {
      ...stored,
      steps: [
        { name: 'a', type: 'shell_command', config: { command: 'true' }, needs: [] },
        { name: 'b', type: 'shell_command', config: { command: 'true' }, needs: ['a'], when: { status: 'always' }, env: { MODE: 'ci' } },
      ],
    };
    const { payload, errors } = buildPayload(formFromPipeline(asCode, types), types);
    assert.deepEqual(errors, {});
    assert.deepEqual(payload.steps, [
      { name: 'a', type: 'shell_command', config: { command: 'true' }, needs: [] },
      { name: 'b', type: 'shell_command', config: { command: 'true' }, needs: ['a'], when: { status: 'always' }, env: { MODE: 'ci' } },
    ]);
  });

  it("keeps a step's artifacts, cache and from (build outputs) and its environment through a save and in a copy, though the editor does not edit them", () => {
    const outputs = {
      artifacts: { name: 'dist', paths: ['dist/**'], expire_in_days: 7 },
      cache: { key: "deps-{{ hashFiles('package-lock.json') }}", paths: ['node_modules'], restore_keys: ['deps-'] },
      from: { pipeline: 'build-app', branch: 'main' },
      environment: 'production',
    };
    const withOutputs = { ...stored, steps: [{ name: 'a', type: 'shell_command', config: { command: 'true' }, ...outputs }] };
    for (const duplicate of [false, true]) {
      // (A copy asks for its secret variables again: that error is not about steps.)
      const { payload, errors } = buildPayload(formFromPipeline(withOutputs, types, duplicate), types);
      assert.deepEqual(
        Object.keys(errors).filter((k) => k.startsWith('steps')),
        [],
      );
      assert.deepEqual(payload.steps, [{ name: 'a', type: 'shell_command', config: { command: 'true' }, ...outputs }]);
    }
  });

  it('sends config_path only when the server has the field or one is set, null when cleared', () => {
    const without = buildPayload(formFromPipeline(stored, types), types).payload;
    assert.equal('config_path' in without, false, 'a server without the field is not sent it');
    const known = formFromPipeline({ ...stored, config_path: '.ansflow.yml' }, types);
    assert.equal(known.configPath, '.ansflow.yml');
    assert.equal(buildPayload(known, types).payload.config_path, '.ansflow.yml');
    assert.equal(buildPayload({ ...known, configPath: '  ' }, types).payload.config_path, null);
    assert.equal(buildPayload({ ...formFromPipeline(stored, types), configPath: 'ci/pipeline.yml ' }, types).payload.config_path, 'ci/pipeline.yml');
    assert.equal(buildPayload(formFromPipeline({ ...stored, config_path: null }, types), types).payload.config_path, null);
  });

  it('refuses a pipeline file path outside the repository', () => {
    for (const bad of ['/etc/passwd', '../other/.ansflow.yml', 'ci/../../x.yml', 'ci\\..\\x.yml']) {
      const { errors } = buildPayload({ ...formFromPipeline(stored, types), configPath: bad }, types);
      assert.deepEqual(errors.config_path, ['A path inside the repository, like .ansflow.yml'], bad);
    }
  });

  it('round-trips auto_cancel, badge_public and forge_credential (and sends no credential as null)', () => {
    const form = formFromPipeline({ ...stored, auto_cancel: true, badge_public: true, forge_credential: 'gh-status' }, types);
    assert.equal(form.autoCancel, true);
    const { payload } = buildPayload(form, types);
    assert.equal(payload.auto_cancel, true);
    assert.equal(payload.badge_public, true);
    assert.equal(payload.forge_credential, 'gh-status');
    assert.equal(buildPayload({ ...form, forgeCredential: '  ' }, types).payload.forge_credential, null);
  });

  it('round-trips a stored pipeline into the same request body', () => {
    const form = formFromPipeline(stored, types);
    const { payload, errors } = buildPayload(form, types);
    assert.deepEqual(errors, {});
    assert.deepEqual(payload, {
      name: 'Build',
      description: 'd',
      status: 'active',
      repository_url: 'https://github.com/u/r.git',
      branch: 'main',
      trigger_events: ['push'],
      secrets_for_forks: false,
      auto_cancel: false,
      badge_public: false,
      forge_credential: null,
      variables: { PLAIN: 'x', TOKEN: { value: SECRET_MASK, secret: true } },
      steps: [
        { name: 'Checkout', type: 'git_checkout', config: { repository: 'https://github.com/u/r.git', branch: 'main' } },
        { name: 'Lint', type: 'shell_command', config: { command: 'npm run lint' }, retries: 2, parallel_group: 'checks' },
        { name: 'Test', type: 'shell_command', config: { command: 'npm test' }, timeout_seconds: 600, parallel_group: 'checks' },
      ],
      inputs: [],
    });
  });

  it('marks stored secrets so the mask is sent back unchanged', () => {
    const form = formFromPipeline(stored, types);
    const token = form.variables.find((v) => v.name === 'TOKEN');
    assert.equal(token?.secret, true);
    assert.equal(token?.storedSecret, true);
  });

  it('as a duplicate, renames and asks for secrets again', () => {
    const form = formFromPipeline(stored, types, true);
    assert.equal(form.name, 'Build (copy)');
    const token = form.variables.find((v) => v.name === 'TOKEN');
    assert.equal(token?.value, '');
    assert.equal(token?.storedSecret, false);
    assert.deepEqual(buildPayload(form, types).errors, { 'variables.TOKEN': ['Enter the secret value'] });
  });
});

describe('sandbox settings and fork secrets', () => {
  const sandboxed = {
    ...stored,
    secrets_for_forks: true,
    steps: [
      {
        name: 'Deploy',
        type: 'shell_command',
        config: { command: './deploy' },
        credential: 'prod-key',
        network: 'none',
        limits: { memory: '2g', processes: 256, cpus: 1.5, file_size: 1048576 },
      },
      { name: 'Plain', type: 'shell_command', config: { command: 'true' }, network: 'host' },
    ],
  };

  it('round-trips credential, network none, every limit and secrets_for_forks', () => {
    const form = formFromPipeline(sandboxed, types);
    assert.equal(form.secretsForForks, true);
    const [deploy, plain] = form.steps;
    assert.deepEqual(
      [deploy?.credential, deploy?.network, deploy?.limits],
      ['prod-key', 'none', { memory: '2g', processes: '256', cpus: '1.5', fileSize: '1048576' }],
    );
    assert.equal(hasSandboxSettings(deploy!), true);
    assert.equal(hasSandboxSettings(plain!), false, 'network host is the default, not a setting');
    const { payload, errors } = buildPayload(form, types);
    assert.deepEqual(errors, {});
    assert.equal(payload.secrets_for_forks, true);
    assert.deepEqual(payload.steps[0], {
      name: 'Deploy',
      type: 'shell_command',
      config: { command: './deploy' },
      credential: 'prod-key',
      network: 'none',
      limits: { memory: '2g', processes: 256, cpus: 1.5, file_size: 1048576 },
    });
    assert.deepEqual(payload.steps[1], { name: 'Plain', type: 'shell_command', config: { command: 'true' } });
  });

  it('a new step has no credential, the host network and the server default limits', () => {
    const step = newStep(types, 'shell_command', []);
    assert.deepEqual([step.credential, step.network, step.limits], ['', 'host', { memory: '', processes: '', cpus: '', fileSize: '' }]);
    const form = { ...emptyForm(), name: 'x', steps: [{ ...step, values: { command: 'true' } }] };
    const { payload } = buildPayload(form, types);
    assert.deepEqual(payload.steps[0], { name: 'Shell Command 1', type: 'shell_command', config: { command: 'true' } });
    assert.equal(payload.secrets_for_forks, false);
  });

  it('sizes with units stay text, bytes become numbers, blanks are left out', () => {
    const step = { ...newStep(types, 'shell_command', []), values: { command: 'true' } };
    const form = { ...emptyForm(), name: 'x', steps: [{ ...step, limits: { memory: ' 512 MiB ', processes: '', cpus: '2', fileSize: '' } }] };
    assert.deepEqual(buildPayload(form, types).payload.steps[0]?.limits, { memory: '512 MiB', cpus: 2 });
  });

  it('refuses limits the server would refuse, on the path the server uses', () => {
    const step = { ...newStep(types, 'shell_command', []), values: { command: 'true' } };
    const form = { ...emptyForm(), name: 'x', steps: [{ ...step, limits: { memory: 'lots', processes: '4', cpus: '0', fileSize: '0k' } }] };
    const { errors, payload } = buildPayload(form, types);
    assert.deepEqual(Object.keys(errors).sort(), ['steps[0].limits.cpus', 'steps[0].limits.file_size', 'steps[0].limits.memory', 'steps[0].limits.processes']);
    assert.match(errors['steps[0].limits.memory']![0]!, /size such as 512m/);
    assert.match(errors['steps[0].limits.processes']![0]!, /between 8 and 1000000/);
    assert.equal(payload.steps[0]?.limits, undefined);
    assert.deepEqual(stepLimitErrors(errors, 0).memory, errors['steps[0].limits.memory']);
    assert.deepEqual(stepLimitErrors({ 'steps[0].limits': ['bad'] }, 0), { '': ['bad'] });
    assert.equal(isShownInline('steps[0].limits.memory', 1), true);
    assert.equal(isShownInline('steps[0].credential', 1), true);
    assert.equal(isShownInline('secrets_for_forks', 1), true);
  });

  it('as a duplicate, keeps the sandbox settings', () => {
    const copy = formFromPipeline(sandboxed, types, true);
    assert.equal(copy.steps[0]?.credential, 'prod-key');
    assert.equal(copy.steps[0]?.network, 'none');
    assert.equal(copy.secretsForForks, true);
  });
});

describe('editing steps', () => {
  it('adds a step with its type defaults and switches types', () => {
    const step = newStep(types, 'git_checkout', []);
    assert.equal(step.name, 'Git Checkout 1');
    assert.deepEqual(step.values, { repository: '', branch: 'main' });
    const changed = changeStepType(step, types, 'shell_command');
    assert.deepEqual(changed.values, { command: '' });
    assert.equal(changed.uid, step.uid);
  });

  it('moves items and ignores moves out of range', () => {
    assert.deepEqual(moveItem(['a', 'b', 'c'], 0, 2), ['b', 'c', 'a']);
    assert.deepEqual(moveItem(['a', 'b', 'c'], 2, 1), ['a', 'c', 'b']);
    assert.deepEqual(moveItem(['a', 'b'], 0, 5), ['a', 'b']);
  });

  it('groups consecutive steps of the same parallel group', () => {
    const form = formFromPipeline(stored, types);
    const segments = segmentSteps(form.steps);
    assert.deepEqual(
      segments.map((s) => [s.group, s.items.map((i) => i.index)]),
      [
        [null, [0]],
        ['checks', [1, 2]],
      ],
    );
    // the same group name separated by another step is two groups
    const split = [form.steps[1]!, form.steps[0]!, form.steps[2]!];
    assert.equal(segmentSteps(split).length, 3);
  });
});

describe('client-side validation', () => {
  it('reports missing names, config and bad numbers with API-style paths', () => {
    const form = emptyForm();
    const step = newStep(types, 'shell_command', []);
    form.steps = [{ ...step, name: ' ', retries: 'x', timeoutSeconds: '0' }];
    form.variables = [
      { uid: 'a', name: '1BAD', value: 'v', secret: false, storedSecret: false },
      { uid: 'b', name: 'OK', value: 'v', secret: false, storedSecret: false },
      { uid: 'c', name: 'OK', value: 'w', secret: false, storedSecret: false },
      { uid: 'd', name: '', value: '', secret: false, storedSecret: false },
    ];
    const { errors, payload } = buildPayload(form, types);
    assert.deepEqual(errors, {
      name: ['Name is required'],
      'variables.1BAD': ['Names use letters, digits and _ and do not start with a digit'],
      'variables.OK': ['Duplicate variable OK'],
      'steps[0].name': ['Step name is required'],
      'steps[0].config.command': ['This field is required'],
      'steps[0].timeout_seconds': ['Timeout must be between 1 and 604800'],
      'steps[0].retries': ['Retries must be a whole number'],
    });
    assert.equal(payload.branch, 'main');
  });
});

describe('API errors in the editor', () => {
  it('canonicalizes paths so any notation finds its field', () => {
    assert.equal(canonicalPath(['steps', 1, 'config', 'repository']), 'steps[1].config.repository');
    assert.deepEqual(errorMapFromDetails({ '/steps/1/name': ['x'], 'steps[1].name': ['y'] }), { 'steps[1].name': ['x', 'y'] });
  });

  it('splits errors between inline fields and the summary', () => {
    assert.equal(isShownInline('name', 2), true);
    assert.equal(isShownInline('steps[1].config.repository', 2), true);
    assert.equal(isShownInline('steps[1].timeout_seconds', 2), true);
    assert.equal(isShownInline('steps[5].name', 2), false);
    assert.equal(isShownInline('variables.PATH', 2), true);
    assert.equal(isShownInline('owner', 2), false);
  });

  it('groups variable and step field errors', () => {
    const errors = { 'variables.PATH': ['reserved'], 'steps[1].retries': ['too many'], 'steps[1]': ['bad step'], 'steps[1].config.command': ['x'] };
    assert.deepEqual(variableErrors(errors), { PATH: ['reserved'] });
    assert.deepEqual(stepFieldErrors(errors, 1), { retries: ['too many'], '': ['bad step'] });
    assert.deepEqual(stepFieldErrors(errors, 0), {});
  });
});
