import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planStages, type PlannedStep } from './plan.js';

const step = (stepId: number, parallel_group?: string): PlannedStep => ({
  stepId,
  name: `s${stepId}`,
  type: 'shell_command',
  config: {},
  ...(parallel_group ? { parallel_group } : {}),
});

test('consecutive steps of one parallel group form one stage; others are stages of their own', () => {
  const stages = planStages([step(1), step(2, 'g'), step(3, 'g'), step(4), step(5, 'h'), step(6, 'g')]);
  assert.deepEqual(
    stages.map((s) => ({ group: s.group, ids: s.steps.map((x) => x.stepId) })),
    [
      { group: null, ids: [1] },
      { group: 'g', ids: [2, 3] },
      { group: null, ids: [4] },
      { group: 'h', ids: [5] },
      { group: 'g', ids: [6] },
    ],
  );
});

test('two ungrouped steps in a row stay sequential', () => {
  assert.equal(planStages([step(1), step(2)]).length, 2);
});
