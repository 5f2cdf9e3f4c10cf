import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planGraph, PlanError, type PlannedStep } from './plan.js';

const step = (stepId: number, extra: Partial<PlannedStep> = {}): PlannedStep => ({
  stepId,
  name: `s${stepId}`,
  type: 'shell_command',
  config: {},
  ...extra,
});

const shape = (steps: PlannedStep[]) => planGraph(steps).map((n) => ({ id: n.step.stepId, needs: n.needs, parallel: n.parallel }));

test('without needs, stages become needs: each step waits for the whole previous stage', () => {
  const g = (parallel_group: string) => ({ parallel_group });
  assert.deepEqual(shape([step(1), step(2, g('g')), step(3, g('g')), step(4), step(5, g('h')), step(6, g('g'))]), [
    { id: 1, needs: [], parallel: false },
    { id: 2, needs: [0], parallel: true },
    { id: 3, needs: [0], parallel: true },
    { id: 4, needs: [1, 2], parallel: false },
    { id: 5, needs: [3], parallel: false },
    { id: 6, needs: [4], parallel: false },
  ]);
});

test('two ungrouped steps in a row stay sequential', () => {
  assert.deepEqual(shape([step(1), step(2)]), [
    { id: 1, needs: [], parallel: false },
    { id: 2, needs: [0], parallel: false },
  ]);
});

test('with needs, each step waits for exactly what it names; a step without needs starts at once', () => {
  assert.deepEqual(shape([step(1, { needs: [] }), step(2, { needs: ['s1'] }), step(3, { needs: ['s1'] }), step(4, { needs: ['s3', 's2'] }), step(5)]), [
    { id: 1, needs: [], parallel: true },
    { id: 2, needs: [0], parallel: true },
    { id: 3, needs: [0], parallel: true },
    { id: 4, needs: [1, 2], parallel: true },
    { id: 5, needs: [], parallel: true },
  ]);
});

test('a chain declared with needs is sequential, so its log lines get no prefix', () => {
  assert.deepEqual(
    shape([step(1, { needs: ['s2'] }), step(2, { needs: [] }), step(3, { needs: ['s1'] })]).map((n) => n.parallel),
    [false, false, false],
  );
});

test('an unknown need or a cycle is refused before anything runs', () => {
  assert.throws(
    () => planGraph([step(1, { needs: ['nope'] })]),
    (e: unknown) => e instanceof PlanError && /"s1" needs "nope"/.test(e.message),
  );
  assert.throws(
    () => planGraph([step(1, { needs: ['s3'] }), step(2, { needs: ['s1'] }), step(3, { needs: ['s2'] }), step(4, { needs: [] })]),
    (e: unknown) => e instanceof PlanError && /wait for each other.*"s1", "s2", "s3"$/.test(e.message),
  );
});

test('a large graph (a 256-cell matrix of 20 steps) is planned', () => {
  const steps: PlannedStep[] = [];
  for (let cell = 0; cell < 256; cell++)
    for (let s = 0; s < 20; s++) steps.push({ ...step(cell * 20 + s), name: `c${cell}-s${s}`, needs: s === 0 ? [] : [`c${cell}-s${s - 1}`] });
  const nodes = planGraph(steps);
  assert.equal(nodes.length, 5120);
  assert.deepEqual(nodes[21]!.needs, [20]);
  assert.ok(nodes.every((n) => n.parallel));
});
