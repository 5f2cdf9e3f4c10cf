import { test } from 'node:test';
import assert from 'node:assert/strict';
import { artifactName, stepOutputProblems } from './step-outputs.js';
import { validateSteps } from './validate-steps.js';
import { parsePipelineFile } from './pipeline-file/index.js';
import type { StepDefinition } from './pipeline.js';

const shell = (name: string, extra: Partial<StepDefinition> = {}): StepDefinition => ({ name, type: 'shell_command', config: { command: 'true' }, ...extra });

test('artifact names: the given one, else the step name made safe', () => {
  assert.equal(artifactName('Build app / linux', { paths: ['dist/**'] }), 'Build-app-linux');
  assert.equal(artifactName('--x', { paths: ['a'] }), 'x');
  assert.equal(artifactName('日本', { paths: ['a'] }), 'artifact');
  assert.equal(artifactName('b', { name: 'web', paths: ['a'] }), 'web');
});

test('climbing globs, bad cache keys and twice-used artifact names are refused with the field named', () => {
  const problems = stepOutputProblems([
    { name: 'a', artifacts: { paths: ['dist/**', '../other-run/**', '/etc/passwd'] } },
    { name: 'b', artifacts: { name: 'a', paths: ['x'] } },
    { name: 'c', cache: { key: 'deps/{{ branch }}', paths: ['~/.npm'], restore_keys: ['deps-', '../x', 'k-{{ env.X }}'] } },
    { name: 'd', cache: { key: "deps-{{ hashFiles('package-lock.json') }}", paths: ['node_modules'], restore_keys: ['deps-{{ branch }}-'] } },
  ]);
  assert.deepEqual(Object.keys(problems).sort(), [
    'steps[0].artifacts.paths[1]',
    'steps[0].artifacts.paths[2]',
    'steps[1].artifacts.name',
    'steps[2].cache.key',
    'steps[2].cache.paths[0]',
    'steps[2].cache.restore_keys[1]',
    'steps[2].cache.restore_keys[2]',
  ]);
  assert.match(problems['steps[0].artifacts.paths[1]']![0]!, /climbs out/);
  assert.match(problems['steps[2].cache.key']![0]!, /no "\/"/);
});

test('stored steps are checked through validateSteps', () => {
  const details = validateSteps([shell('a', { artifacts: { paths: ['../x'] } }), shell('b', { cache: { key: '..', paths: ['n'] } })], { allowLocal: false });
  assert.ok(details['steps[0].artifacts.paths[0]']);
  assert.ok(details['steps[1].cache.key']);
});

test('a pipeline file carries artifacts and cache into the plan, and locates their problems', async () => {
  const ok = await parsePipelineFile(
    [
      'steps:',
      '  - name: build',
      '    run: make',
      '    artifacts: { name: dist, paths: ["dist/**"], expire_in_days: 7 }',
      '    cache: { key: "deps-{{ branch }}", paths: [node_modules], restore_keys: [deps-] }',
      '',
    ].join('\n'),
    { path: '.ansflow.yml' },
  );
  assert.deepEqual(ok.errors, []);
  assert.deepEqual(ok.steps[0]!.artifacts, { name: 'dist', paths: ['dist/**'], expire_in_days: 7 });
  assert.deepEqual(ok.steps[0]!.cache, { key: 'deps-{{ branch }}', paths: ['node_modules'], restore_keys: ['deps-'] });
  const bad = await parsePipelineFile(['steps:', '  - name: build', '    run: make', '    artifacts:', '      paths: ["../secret"]', ''].join('\n'), {
    path: '.ansflow.yml',
  });
  assert.equal(bad.valid, false);
  assert.deepEqual(
    bad.errors.map((e) => [e.path, e.line]),
    [['steps[0].artifacts.paths[0]', 5]],
  );
});

test("a step's from: names another pipeline (name or id) and maybe a branch; a bad branch is refused with the field named, in a file too", async () => {
  assert.deepEqual(
    validateSteps([shell('deploy', { from: { pipeline: 'build-app', branch: 'release/1.x' } }), shell('b', { from: { pipeline: 3 } })], { allowLocal: false }),
    {},
  );
  assert.match(stepOutputProblems([shell('deploy', { from: { pipeline: 'x', branch: '-rf' } })])['steps[0].from.branch']![0]!, /must not start with "-"/);
  const ok = await parsePipelineFile(['steps:', '  - name: deploy', '    run: ./deploy.sh', '    from: { pipeline: build-app, branch: main }', ''].join('\n'), {
    path: '.ansflow.yml',
  });
  assert.deepEqual(ok.errors, []);
  assert.deepEqual(ok.steps[0]!.from, { pipeline: 'build-app', branch: 'main' });
  const bad = await parsePipelineFile(
    ['steps:', '  - name: deploy', '    run: ./deploy.sh', '    from:', '      pipeline: build-app', '      branch: "-x"', ''].join('\n'),
    {
      path: '.ansflow.yml',
    },
  );
  assert.equal(bad.valid, false);
  assert.deepEqual(
    bad.errors.map((e) => [e.path, e.line]),
    [['steps[0].from.branch', 6]],
  );
});
