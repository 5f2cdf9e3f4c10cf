import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from 'typebox/value';
import { validateSteps } from './validate-steps.js';
import { StepDefinitionSchema, type StepDefinition } from './pipeline.js';

const policy = { allowLocal: false };
const shell = (name: string, extra: Partial<StepDefinition> = {}): StepDefinition => ({ name, type: 'shell_command', config: { command: 'true' }, ...extra });

test('needs, when.status and env are part of a stored step', () => {
  const step = shell('test', { needs: ['build'], when: { status: 'always' }, env: { NODE: '22' } });
  assert.equal(Value.Check(StepDefinitionSchema, step), true);
  assert.equal(Value.Check(StepDefinitionSchema, { ...step, when: { status: 'sometimes' } }), false);
  assert.equal(Value.Check(StepDefinitionSchema, { ...step, when: { branch: 'main' } }), false, 'branch/event/paths are decided before the run, not stored');
  assert.equal(Value.Check(StepDefinitionSchema, { ...step, env: { A: 1 } }), false);
  assert.deepEqual(validateSteps([shell('build'), step], policy), {});
});

test('step variables with reserved or malformed names are refused by name', () => {
  const details = validateSteps([shell('a', { env: { LD_PRELOAD: '/x.so', '1X': 'y', OK: 'fine', NUL: 'a\0b' } })], policy);
  assert.deepEqual(Object.keys(details).sort(), ['steps[0].env.1X', 'steps[0].env.LD_PRELOAD', 'steps[0].env.NUL']);
  assert.match(details['steps[0].env.LD_PRELOAD']![0]!, /reserved/);
});

test('unknown needs and cycles name the field', () => {
  assert.deepEqual(validateSteps([shell('a'), shell('b', { needs: ['nope'] })], policy), {
    'steps[1].needs[0]': ['There is no step named "nope".'],
  });
  const cyclic = validateSteps([shell('a', { needs: ['b'] }), shell('b', { needs: ['a'] })], policy);
  assert.deepEqual(Object.keys(cyclic), ['steps[0].needs']);
  assert.match(cyclic['steps[0].needs']![0]!, /a → b → a/);
});

test('parallel_group alone keeps working', () => {
  assert.deepEqual(validateSteps([shell('a', { parallel_group: 'g' }), shell('b', { parallel_group: 'g' }), shell('c')], policy), {});
});
