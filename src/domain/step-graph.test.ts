import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveNeeds, stepGraphProblems, type GraphNode } from './step-graph.js';

const at = (i: number) => `steps[${i}]`;

test('without needs, each step waits for the whole previous stage (parallel groups are stages)', () => {
  const nodes: GraphNode[] = [
    { name: 'checkout' },
    { name: 'lint', parallel_group: 'checks' },
    { name: 'unit', parallel_group: 'checks' },
    { name: 'package' },
    { name: 'a', parallel_group: 'x' },
    { name: 'b', parallel_group: 'y' },
  ];
  assert.deepEqual(effectiveNeeds(nodes), [[], ['checkout'], ['checkout'], ['lint', 'unit'], ['package'], ['a']]);
  assert.deepEqual(stepGraphProblems(nodes, at), {});
});

test('with needs, each step waits for exactly what it names; a step without needs starts at once', () => {
  const nodes: GraphNode[] = [{ name: 'build' }, { name: 'test', needs: ['build'] }, { name: 'docs' }, { name: 'ship', needs: ['test', 'docs'] }];
  assert.deepEqual(effectiveNeeds(nodes), [[], ['build'], [], ['test', 'docs']]);
  assert.deepEqual(stepGraphProblems(nodes, at), {});
});

test('an unknown need, a step needing itself and a need listed twice are named by field', () => {
  const nodes: GraphNode[] = [{ name: 'build' }, { name: 'test', needs: ['biuld', 'test', 'build', 'build'] }];
  assert.deepEqual(stepGraphProblems(nodes, at), {
    'steps[1].needs[0]': ['There is no step named "biuld".'],
    'steps[1].needs[1]': ['A step cannot wait for itself.'],
    'steps[1].needs[3]': ['"build" is listed twice.'],
  });
});

test('needs match step names exactly (case included)', () => {
  assert.deepEqual(stepGraphProblems([{ name: 'Build' }, { name: 'test', needs: ['build'] }], at), {
    'steps[1].needs[0]': ['There is no step named "build".'],
  });
});

test('a cycle is reported once, on its first step, naming every step in it', () => {
  const nodes: GraphNode[] = [{ name: 'start' }, { name: 'a', needs: ['c'] }, { name: 'b', needs: ['a', 'start'] }, { name: 'c', needs: ['b'] }];
  assert.deepEqual(stepGraphProblems(nodes, at), {
    'steps[1].needs': ['These steps wait for each other, so none of them could start: a → c → b → a.'],
  });
});

test('two separate cycles are both reported', () => {
  const nodes: GraphNode[] = [
    { name: 'a', needs: ['b'] },
    { name: 'b', needs: ['a'] },
    { name: 'c', needs: ['d'] },
    { name: 'd', needs: ['c'] },
  ];
  assert.deepEqual(Object.keys(stepGraphProblems(nodes, at)), ['steps[0].needs', 'steps[2].needs']);
});

test('a long chain of needs is checked without overflowing the stack', () => {
  const nodes: GraphNode[] = Array.from({ length: 10_000 }, (_, i) => ({ name: `s${i}`, needs: i === 0 ? [] : [`s${i - 1}`] }));
  assert.deepEqual(stepGraphProblems(nodes, at), {});
  nodes[0] = { name: 's0', needs: ['s9999'] };
  assert.equal(Object.keys(stepGraphProblems(nodes, at))[0], 'steps[0].needs');
});

test('needs and parallel_group in one pipeline are refused on each parallel_group', () => {
  const nodes: GraphNode[] = [
    { name: 'a', parallel_group: 'g' },
    { name: 'b', needs: ['a'] },
  ];
  assert.deepEqual(Object.keys(stepGraphProblems(nodes, at)), ['steps[0].parallel_group']);
});
