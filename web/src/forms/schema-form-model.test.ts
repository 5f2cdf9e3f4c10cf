import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { coerceBoolean, coerceInteger, fieldErrorsAt, fieldsFromSchema, initialValues, normalizeDetails, parseErrorPath, toConfig } from './schema-form-model';

const gitCheckout = {
  type: 'object',
  properties: {
    repository: { type: 'string', title: '仓库地址', description: 'https:// or ssh://' },
    branch: { type: 'string', title: '分支名称', default: 'main' },
    depth: { type: 'integer', title: 'Depth', default: 1, minimum: 0, maximum: 100000 },
    submodules: { type: 'boolean', default: false },
  },
  required: ['repository'],
};

const shell = {
  type: 'object',
  properties: {
    command: { type: 'string', title: '命令', format: 'textarea' },
    shell: { type: 'string', enum: ['bash', 'sh'], default: 'bash' },
    env: { type: 'object', title: 'Env', additionalProperties: { type: 'string' } },
    tags: { type: 'array', items: { type: 'string' } },
    extra_vars: { type: 'object' },
    ratio: { type: 'number' },
  },
  required: ['command'],
};

describe('fieldsFromSchema', () => {
  it('derives one field per property with kind, label, description and required flag', () => {
    const fields = fieldsFromSchema(gitCheckout);
    assert.deepEqual(
      fields.map((f) => [f.name, f.kind, f.label, f.required]),
      [
        ['repository', 'text', '仓库地址', true],
        ['branch', 'text', '分支名称', false],
        ['depth', 'integer', 'Depth', false],
        ['submodules', 'boolean', 'Submodules', false],
      ],
    );
    assert.equal(fields[0]?.description, 'https:// or ssh://');
    assert.equal(fields[2]?.minimum, 0);
    assert.equal(fields[2]?.maximum, 100000);
  });

  it('maps textarea hints, enums, string maps, string lists and free objects', () => {
    const kinds = Object.fromEntries(fieldsFromSchema(shell).map((f) => [f.name, f.kind]));
    assert.deepEqual(kinds, {
      command: 'textarea',
      shell: 'select',
      env: 'string-map',
      tags: 'string-list',
      extra_vars: 'json',
      ratio: 'number',
    });
    assert.deepEqual(fieldsFromSchema(shell)[1]?.options, ['bash', 'sh']);
  });

  it('returns no fields for a missing or property-less schema', () => {
    assert.deepEqual(fieldsFromSchema(null), []);
    assert.deepEqual(fieldsFromSchema({ type: 'object' }), []);
  });
});

describe('initialValues', () => {
  it('uses defaults for a new step', () => {
    assert.deepEqual(initialValues(fieldsFromSchema(gitCheckout)), {
      repository: '',
      branch: 'main',
      depth: '1',
      submodules: false,
    });
  });

  it('prefers the existing config over defaults', () => {
    const values = initialValues(fieldsFromSchema(shell), {
      command: 'make',
      env: { A: '1' },
      tags: ['x', 'y'],
      extra_vars: { n: 1 },
    });
    assert.equal(values.command, 'make');
    assert.equal(values.shell, 'bash');
    assert.deepEqual(values.env, [{ key: 'A', value: '1' }]);
    assert.equal(values.tags, 'x\ny');
    assert.equal(values.extra_vars, '{\n  "n": 1\n}');
  });
});

describe('coercion', () => {
  it('coerces integers strictly', () => {
    assert.deepEqual(coerceInteger(' 42 '), { ok: true, value: 42 });
    assert.deepEqual(coerceInteger('-3'), { ok: true, value: -3 });
    assert.equal(coerceInteger('1.5').ok, false);
    assert.equal(coerceInteger('12abc').ok, false);
    assert.equal(coerceInteger('').ok, false);
    assert.equal(coerceInteger('99999999999999999999').ok, false);
  });

  it('coerces booleans from checkboxes and text', () => {
    assert.equal(coerceBoolean(true), true);
    assert.equal(coerceBoolean('true'), true);
    assert.equal(coerceBoolean('on'), true);
    assert.equal(coerceBoolean('false'), false);
    assert.equal(coerceBoolean(''), false);
  });
});

describe('toConfig', () => {
  const fields = fieldsFromSchema(gitCheckout);

  it('builds a typed config and leaves blank optional fields out', () => {
    const { config, errors } = toConfig(fields, { repository: 'https://x/y.git', branch: '', depth: '5', submodules: true });
    assert.deepEqual(errors, {});
    assert.deepEqual(config, { repository: 'https://x/y.git', depth: 5, submodules: true });
  });

  it('reports required, integer and range errors by field', () => {
    const { errors } = toConfig(fields, { repository: '  ', branch: 'main', depth: 'two', submodules: false });
    assert.deepEqual(errors, { repository: ['This field is required'], depth: ['Must be a whole number'] });
    assert.deepEqual(toConfig(fields, { repository: 'r', depth: '-1' }).errors, { depth: ['Must be at least 0'] });
  });

  it('builds string maps, lists and JSON, and reports their errors', () => {
    const shellFields = fieldsFromSchema(shell);
    const ok = toConfig(shellFields, {
      command: 'echo hi',
      shell: 'sh',
      env: [
        { key: 'A', value: '1' },
        { key: '', value: '' },
      ],
      tags: 'a\n\n b \n',
      extra_vars: '{"x": [1]}',
      ratio: '0.5',
    });
    assert.deepEqual(ok.errors, {});
    assert.deepEqual(ok.config, { command: 'echo hi', shell: 'sh', env: { A: '1' }, tags: ['a', 'b'], extra_vars: { x: [1] }, ratio: 0.5 });

    const bad = toConfig(shellFields, {
      command: 'x',
      shell: 'zsh',
      env: [
        { key: 'A', value: '1' },
        { key: 'A', value: '2' },
        { key: '', value: 'v' },
      ],
      extra_vars: '{nope',
    });
    assert.deepEqual(bad.errors, {
      shell: ['Choose one of the options'],
      env: ['Duplicate name: A', 'Every value needs a name'],
      extra_vars: ['Must be valid JSON'],
    });
  });
});

describe('API error paths', () => {
  it('parses dotted/bracketed paths and JSON pointers', () => {
    assert.deepEqual(parseErrorPath('steps[1].config.repository'), ['steps', 1, 'config', 'repository']);
    assert.deepEqual(parseErrorPath('variables.PATH'), ['variables', 'PATH']);
    assert.deepEqual(parseErrorPath('name'), ['name']);
    assert.deepEqual(parseErrorPath('/steps/0/config/env/A~1B'), ['steps', 0, 'config', 'env', 'A/B']);
    assert.deepEqual(parseErrorPath('steps[2]["config"]'), ['steps', 2, 'config']);
  });

  it('normalizes details of any shape', () => {
    assert.deepEqual(normalizeDetails({ a: ['x'], b: 'y', c: null, d: { z: 1 } }), { a: ['x'], b: ['y'], d: ['{"z":1}'] });
    assert.deepEqual(normalizeDetails(null), {});
  });

  it('maps errors under a step config to its fields', () => {
    const fields = fieldsFromSchema(shell);
    const details = {
      'steps[1].config.command': ['must not be empty'],
      'steps[1].config.env.FOO': ['too long'],
      'steps[1].config': ["must have required property 'command'", 'must NOT have additional properties'],
      'steps[1].config.unknown': ['not allowed'],
      'steps[0].config.command': ['other step'],
      name: ['required'],
    };
    assert.deepEqual(fieldErrorsAt(details, ['steps', 1, 'config'], fields), {
      command: ['must not be empty', "must have required property 'command'"],
      env: ['too long'],
      '': ['must NOT have additional properties', 'unknown: not allowed'],
    });
  });
});
