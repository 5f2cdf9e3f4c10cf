import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initialInputValues, inputsPayload } from './launch-inputs-form';
import type { LaunchInput } from '../api/types';

const inputs: LaunchInput[] = [
  { name: 'region', type: 'choice', options: ['eu', 'us'], default: 'us' },
  { name: 'DRY_RUN', type: 'boolean', default: true },
  { name: 'REPLICAS', type: 'number', required: true },
  { name: 'NOTE', type: 'string' },
];

describe('launch inputs form', () => {
  it('starts from the defaults (a boolean as a checkbox)', () => {
    assert.deepEqual(initialInputValues(inputs), { region: 'us', DRY_RUN: true, REPLICAS: '', NOTE: '' });
  });

  it('sends typed values, leaves empty optional fields to their defaults, names what is missing or not a number', () => {
    const filled = inputsPayload(inputs, { region: 'eu', DRY_RUN: false, REPLICAS: ' 3 ', NOTE: '' });
    assert.deepEqual(filled, { inputs: { region: 'eu', DRY_RUN: false, REPLICAS: 3 }, errors: {} });
    assert.deepEqual(inputsPayload(inputs, { ...initialInputValues(inputs) }).errors, { 'inputs.REPLICAS': ['This input is required.'] });
    assert.deepEqual(inputsPayload(inputs, { REPLICAS: 'many' }).errors, { 'inputs.REPLICAS': ['Must be a number.'] });
  });
});
