import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inputDeclarationProblems, resolveInputs, type InputDeclaration } from './launch-inputs.js';

const declared: InputDeclaration[] = [
  { name: 'TARGET', type: 'choice', options: ['staging', 'production'], default: 'staging' },
  { name: 'DRY_RUN', type: 'boolean', default: true },
  { name: 'REPLICAS', type: 'number', required: true },
  { name: 'NOTE', type: 'string' },
];

test('values become variables; defaults fill what is not given', () => {
  assert.deepEqual(resolveInputs(declared, { REPLICAS: 3 }), { variables: { TARGET: 'staging', DRY_RUN: 'true', REPLICAS: '3', NOTE: '' }, problems: {} });
  assert.deepEqual(resolveInputs(declared, { TARGET: 'production', DRY_RUN: false, REPLICAS: 0, NOTE: 'hi' }).variables, {
    TARGET: 'production',
    DRY_RUN: 'false',
    REPLICAS: '0',
    NOTE: 'hi',
  });
});

test('wrong types, values outside the options, unknown and missing inputs are named by field', () => {
  const { problems } = resolveInputs(declared, { TARGET: 'moon', DRY_RUN: 'yes', NOTE: 5, EXTRA: 'x' });
  assert.deepEqual(Object.keys(problems).sort(), ['inputs.DRY_RUN', 'inputs.EXTRA', 'inputs.NOTE', 'inputs.REPLICAS', 'inputs.TARGET']);
  assert.match(problems['inputs.TARGET']![0]!, /"moon" is not one of: staging, production/);
  assert.match(problems['inputs.DRY_RUN']![0]!, /true or false/);
  assert.match(problems['inputs.REPLICAS']![0]!, /required/);
  assert.match(problems['inputs.EXTRA']![0]!, /no such input/);
  assert.match(resolveInputs(declared, { REPLICAS: Number.NaN }).problems['inputs.REPLICAS']![0]!, /a number/);
});

test('declarations are checked: names, duplicates, options, defaults', () => {
  const problems = inputDeclarationProblems([
    { name: 'LD_PRELOAD', type: 'string' },
    { name: 'A', type: 'choice', options: [] },
    { name: 'A', type: 'string', options: ['x'] },
    { name: 'B', type: 'choice', options: ['x', 'x'], default: 'y' },
    { name: 'C', type: 'number', default: 'ten' as unknown as number },
    { name: 'D', type: 'date' as never },
  ]);
  assert.deepEqual(Object.keys(problems).sort(), [
    'inputs[0].name',
    'inputs[1].options',
    'inputs[2].name',
    'inputs[2].options',
    'inputs[3].default',
    'inputs[3].options',
    'inputs[4].default',
    'inputs[5].type',
  ]);
  assert.deepEqual(inputDeclarationProblems(declared), {});
});

test('text forms of booleans and numbers are read as them (a command line, a form); other text is still the wrong type', () => {
  const { variables, problems } = resolveInputs(declared, { DRY_RUN: 'false', REPLICAS: ' 2.5 ' });
  assert.deepEqual(problems, {});
  assert.equal(variables.DRY_RUN, 'false');
  assert.equal(variables.REPLICAS, '2.5');
  const wrong = resolveInputs(declared, { DRY_RUN: 'no', REPLICAS: '3 pods' }).problems;
  assert.deepEqual(Object.keys(wrong).sort(), ['inputs.DRY_RUN', 'inputs.REPLICAS']);
  assert.deepEqual(Object.keys(resolveInputs(declared, { TARGET: 'moon', REPLICAS: 1 }, { fieldOf: (n) => `variables.${n}` }).problems), ['variables.TARGET']);
});
