import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildStepGraph, conditionText, graphShapeKey, matrixCell } from './step-graph-model';
import { layoutStepGraph, NODE_HEIGHT, TALL_NODE_HEIGHT } from './step-graph-layout';

const edgesOf = (steps: Parameters<typeof buildStepGraph>[0]) =>
  buildStepGraph(steps)
    .edges.map((e) => `${e.from} -> ${e.to}`)
    .sort();

describe('step graph model', () => {
  it('reads a matrix cell name as its step and its values', () => {
    assert.deepEqual(matrixCell('build (NODE=22, OS=debian)'), { base: 'build', values: 'NODE=22, OS=debian' });
    assert.deepEqual(matrixCell('unit tests (NODE=20)'), { base: 'unit tests', values: 'NODE=20' });
    assert.equal(matrixCell('build'), null);
    assert.equal(matrixCell('deploy (staging)'), null, 'parentheses without name=value are part of a plain name');
  });

  it('without needs, each stage waits on the whole stage before it', () => {
    assert.deepEqual(
      edgesOf([{ name: 'Install' }, { name: 'Lint', parallel_group: 'checks' }, { name: 'Test', parallel_group: 'checks' }, { name: 'Build' }]),
      ['Install -> Lint', 'Install -> Test', 'Lint -> Build', 'Test -> Build'],
    );
  });

  it('with needs, a step waits only on what it names; none (or an empty list) waits on nothing', () => {
    assert.deepEqual(edgesOf([{ name: 'a', needs: [] }, { name: 'b' }, { name: 'c', needs: ['a'] }, { name: 'd', needs: ['c', 'b', 'unknown'] }]), [
      'a -> c',
      'b -> d',
      'c -> d',
    ]);
  });

  it('groups matrix cells under their step, and a need of that step waits on every cell', () => {
    const model = buildStepGraph([
      { name: 'checkout', needs: [] },
      { name: 'build (NODE=20, OS=debian)', needs: ['checkout'] },
      { name: 'build (NODE=22, OS=debian)', needs: ['checkout'] },
      { name: 'publish', needs: ['build'] },
    ]);
    assert.deepEqual(model.groups, [{ key: 'matrix:build', label: 'build', members: ['build (NODE=20, OS=debian)', 'build (NODE=22, OS=debian)'] }]);
    assert.equal(model.nodes[1]!.label, 'NODE=20, OS=debian');
    assert.equal(model.nodes[1]!.group, 'matrix:build');
    assert.deepEqual(
      model.edges.map((e) => `${e.from} -> ${e.to}`),
      [
        'checkout -> build (NODE=20, OS=debian)',
        'checkout -> build (NODE=22, OS=debian)',
        'build (NODE=20, OS=debian) -> publish',
        'build (NODE=22, OS=debian) -> publish',
      ],
    );
  });

  it('keeps status and id, and its shape key ignores status', () => {
    const running = buildStepGraph([{ name: 'a', id: 7, status: 'running' }]);
    const done = buildStepGraph([{ name: 'a', id: 7, status: 'success' }]);
    assert.equal(running.nodes[0]!.status, 'running');
    assert.equal(running.nodes[0]!.id, 7);
    assert.equal(graphShapeKey(running), graphShapeKey(done));
    assert.notEqual(graphShapeKey(running), graphShapeKey(buildStepGraph([{ name: 'b' }])));
  });

  it('gives duplicate names nodes of their own', () => {
    const model = buildStepGraph([{ name: 'x' }, { name: 'x' }]);
    assert.deepEqual(
      model.nodes.map((n) => n.key),
      ['x', 'x#2'],
    );
  });
});

describe('step graph layout (dagre)', () => {
  it('places what waits to the right of what it waits on, cells inside their group, all inside the extent', () => {
    const layout = layoutStepGraph(
      buildStepGraph([
        { name: 'checkout', needs: [] },
        { name: 'build (NODE=20)', needs: ['checkout'] },
        { name: 'build (NODE=22)', needs: ['checkout'] },
        { name: 'build (NODE=24)', needs: ['checkout'] },
        { name: 'publish', needs: ['build'] },
      ]),
    );
    const node = (key: string) => layout.nodes.find((n) => n.key === key)!;
    assert.ok(node('build (NODE=20)').x > node('checkout').x + node('checkout').width, 'a cell is right of checkout');
    assert.ok(node('publish').x > node('build (NODE=22)').x + node('build (NODE=22)').width, 'publish is right of the cells');
    const cells = ['build (NODE=20)', 'build (NODE=22)', 'build (NODE=24)'].map(node);
    assert.equal(new Set(cells.map((c) => Math.round(c.x))).size, 1, 'the cells share a column');
    const group = layout.groups[0]!;
    for (const c of cells) {
      assert.ok(c.x >= group.x && c.x + c.width <= group.x + group.width, `${c.key} is inside the group horizontally`);
      assert.ok(c.y >= group.y && c.y + c.height <= group.y + group.height, `${c.key} is inside the group vertically`);
    }
    for (const n of layout.nodes) {
      assert.equal(n.height, NODE_HEIGHT);
      assert.ok(n.x >= 0 && n.y >= 0 && n.x + n.width <= layout.width && n.y + n.height <= layout.height, `${n.key} is inside the extent`);
    }
    // no two nodes overlap
    for (const a of layout.nodes)
      for (const b of layout.nodes)
        if (a !== b) assert.ok(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y, `${a.key} / ${b.key}`);
    assert.equal(layout.edges.length, 6);
    for (const e of layout.edges) assert.ok(e.points.length >= 2, `${e.from} -> ${e.to} has a path`);
  });

  it("says a step's `when` in words; a plain success condition says nothing", () => {
    assert.equal(conditionText(null), null);
    assert.equal(conditionText({ status: 'success' }), null);
    assert.equal(conditionText({ status: 'failure' }), 'if failure');
    assert.equal(
      conditionText({ branch: ['main', 'release/*'], event: ['push'], paths: ['src/**'], paths_ignore: ['*.md'], status: 'always' }),
      'if always · branch main, release/* · on push · paths src/** · not *.md',
    );
  });

  it('shows steps `when` left out, dashed, tied to what they would have waited for; a node with a condition is taller', () => {
    const model = buildStepGraph(
      [
        { name: 'build', needs: [], status: 'success', id: 1 },
        { name: 'notify', needs: ['build'], status: 'skipped', id: 2, when: { status: 'failure' } },
      ],
      [{ name: 'deploy', reason: 'skipped: branch "dev" is not in when.branch', needs: ['build'], when: { branch: ['main'] } }],
    );
    const deploy = model.nodes.find((n) => n.name === 'deploy')!;
    assert.equal(deploy.leftOut, 'skipped: branch "dev" is not in when.branch');
    assert.equal(deploy.condition, 'branch main');
    assert.equal(deploy.status, undefined);
    assert.equal(model.nodes.find((n) => n.name === 'notify')!.condition, 'if failure');
    assert.equal(model.nodes.find((n) => n.name === 'build')!.leftOut, null);
    assert.deepEqual(
      model.edges.map((e) => [e.from, e.to, e.leftOut === true]),
      [
        ['build', 'notify', false],
        ['build', deploy.key, true],
      ],
    );
    const placed = layoutStepGraph(model).nodes;
    assert.equal(placed.find((n) => n.name === 'build')!.height, NODE_HEIGHT);
    assert.equal(placed.find((n) => n.name === 'notify')!.height, TALL_NODE_HEIGHT);
    assert.equal(placed.find((n) => n.name === 'deploy')!.height, TALL_NODE_HEIGHT);
  });
});
