import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePipelineFile } from './parse-pipeline-file.js';
import type { ParseOptions } from './types.js';

const lines = (...l: string[]) => `${l.join('\n')}\n`;
const parse = (content: string, options: Partial<ParseOptions> = {}) => parsePipelineFile(content, { path: '.ansflow.yml', ...options });
/** Problems as `line:column path: message`, the way the CLI prints them. */
const located = (problems: { line: number; column: number; path: string; message: string }[]) =>
  problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);

test('steps take every stored field; run: is short for a shell_command step', async () => {
  const r = await parse(
    lines(
      'steps:',
      '  - name: checkout',
      '    type: git_checkout',
      '    config: { repository: "https://github.com/o/r.git", branch: main }',
      '  - name: build',
      '    run: npm ci && npm test',
      '    config: { working_directory: app }',
      '    timeout_seconds: 600',
      '    retries: 2',
      '    continue_on_error: true',
      '    runs_on: [linux]',
      '    env: { NODE_ENV: test, WORKERS: 4 }',
      '    credential: npm-token',
      '    network: none',
      '    limits: { memory: 2g, cpus: 1.5 }',
    ),
  );
  assert.deepEqual(r.errors, []);
  assert.equal(r.valid, true);
  assert.equal(r.steps[0]!.type, 'git_checkout');
  assert.deepEqual(r.steps[1], {
    name: 'build',
    type: 'shell_command',
    config: { command: 'npm ci && npm test', working_directory: 'app', shell: 'bash' },
    timeout_seconds: 600,
    retries: 2,
    continue_on_error: true,
    runs_on: ['linux'],
    env: { NODE_ENV: 'test', WORKERS: '4' },
    credential: 'npm-token',
    network: 'none',
    limits: { memory: '2g', cpus: 1.5 },
  });
});

test('variables: become text (numbers and booleans as written); reserved names are refused on their key', async () => {
  const ok = await parse(lines('variables:', '  GREETING: hello', '  COUNT: 3', '  DEBUG: false', 'steps:', '  - { name: a, run: "true" }'));
  assert.deepEqual(ok.variables, { GREETING: 'hello', COUNT: '3', DEBUG: 'false' });
  const bad = await parse(lines('variables:', '  OK: 1', '  LD_PRELOAD: /x.so', 'steps:', '  - { name: a, run: "true" }'));
  assert.deepEqual(located(bad.errors), ['3:3 variables.LD_PRELOAD: Variable names starting with LD_ are reserved.']);
  assert.equal(bad.valid, false);
  assert.deepEqual(bad.steps, []);
});

test('YAML syntax errors and duplicate keys are located, and nothing is planned', async () => {
  const indent = await parse(lines('steps:', '  - name: a', '   run: x'));
  assert.deepEqual(located(indent.errors), ['3:1 : YAML: Sequence item without - indicator']);
  assert.deepEqual(indent.steps, []);
  // An unclosed quote is noticed where the file ends.
  const quote = await parse(lines('steps:', '  - name: a', '    run: "unclosed'));
  assert.deepEqual(located(quote.errors), ['4:1 : YAML: Missing closing "quote']);
  const duplicate = await parse(lines('steps:', '  - name: a', '    run: one', '    run: two'));
  assert.deepEqual(
    duplicate.errors.map((e) => [e.line, e.column]),
    [[4, 5]],
  );
  assert.match(duplicate.errors[0]!.message, /unique/i);
});

test('schema errors name the field and point at it: unknown field at its key, wrong type at its value, missing at the parent', async () => {
  const r = await parse(
    lines(
      'steps:',
      '  - name: a',
      '    run: make',
      '    colour: blue',
      '  - name: b',
      '    run: make',
      '    retries: many',
      '  - run: make',
      '  - name: d',
      '    run: make',
      '    when: { status: sometimes }',
    ),
  );
  assert.deepEqual(located(r.errors), [
    '4:5 steps[0].colour: Unknown field "colour".',
    '7:14 steps[1].retries: Must be a whole number.',
    '8:5 steps[2].name: "name" is required.',
    '11:21 steps[3].when.status: Must be one of "success", "failure", "always".',
  ]);
});

test('a union in the file (a string or a list) is one readable error; a mapping in a union says which field is wrong', async () => {
  const r = await parse(
    lines('include:', '  - path: ci/a.yml', '    reff: v1', 'when:', '  branch: 5', '  event: [push, pusher]', 'steps:', '  - { name: a, run: "true" }'),
  );
  assert.deepEqual(located(r.errors), [
    '3:5 include[0].reff: Unknown field "reff".',
    '5:11 when.branch: Must be a string, or a list of strings.',
    '6:17 when.event[1]: Must be one of "push", "pull_request", "tag", "manual".',
  ]);
});

test('the top level must be a mapping; an empty file has no steps', async () => {
  assert.deepEqual(located((await parse('- a\n- b\n')).errors), ['1:1 : Must be a mapping.']);
  assert.deepEqual(located((await parse('steps: []\n')).errors), ['1:1 steps: The pipeline has no steps: add "steps:" or include a file that has some.']);
  assert.deepEqual(located((await parse('')).errors), ['1:1 : Must be a mapping.']);
});

test('run: and type/config must agree', async () => {
  const r = await parse(
    lines(
      'steps:',
      '  - name: a',
      '    type: git_checkout',
      '    run: make',
      '  - name: b',
      '    run: make',
      '    config: { command: other }',
      '  - name: c',
      '    config: { command: x }',
    ),
  );
  assert.deepEqual(located(r.errors), [
    '4:5 steps[0].run: "run" is short for a shell_command step; this step\'s type is "git_checkout".',
    '7:15 steps[1].config.command: Give the command once: in "run" or in config.command.',
    '8:5 steps[2].type: A step needs "run" (a shell command) or "type" (and its "config").',
  ]);
});

test('step names are unique (case-insensitively), as for a saved pipeline', async () => {
  const r = await parse(lines('steps:', '  - { name: Build, run: a }', '  - name: build', '    run: b'));
  assert.deepEqual(located(r.errors), ['3:11 steps[1].name: Another step is already named "Build".']);
});

test("the step catalogue checks config; problems point into the file (a run: step's command is its run)", async () => {
  const r = await parse(
    lines(
      'steps:',
      '  - name: checkout',
      '    type: git_checkout',
      '    config:',
      '      repository: "file:///etc"',
      '  - name: x',
      '    type: teleport',
      '  - name: play',
      '    type: ansible_playbook',
      '    config: { playbook: ../site.yml }',
      '  - name: env',
      '    run: "true"',
      '    env: { GIT_DIR: /tmp }',
    ),
  );
  assert.deepEqual(
    r.errors.map((e) => `${e.line}:${e.column} ${e.path}`),
    ['5:19 steps[0].config.repository', '7:11 steps[1].type', '10:25 steps[2].config.playbook', '13:12 steps[3].env.GIT_DIR'],
  );
  assert.match(r.errors[1]!.message, /Unknown step type "teleport"/);
});

test('needs: a graph; every planned step says what it waits for', async () => {
  const r = await parse(
    lines('steps:', '  - { name: build, run: make }', '  - { name: lint, run: lint }', '  - name: test', '    run: make test', '    needs: [build, lint]'),
  );
  assert.deepEqual(
    r.steps.map((s) => [s.name, s.needs]),
    [
      ['build', []],
      ['lint', []],
      ['test', ['build', 'lint']],
    ],
  );
});

test('needs: an unknown step, itself, a cycle, and needs mixed with parallel_group are located errors', async () => {
  const r = await parse(
    lines(
      'steps:',
      '  - name: a',
      '    run: x',
      '    needs: [c]',
      '  - name: b',
      '    run: x',
      '    needs: [ghost, b]',
      '  - name: c',
      '    run: x',
      '    needs: [a]',
      '  - name: d',
      '    run: x',
      '    parallel_group: g',
    ),
  );
  assert.deepEqual(located(r.errors), [
    '4:12 steps[0].needs: These steps wait for each other, so none of them could start: a → c → a.',
    '7:13 steps[1].needs[0]: There is no step named "ghost".',
    '7:20 steps[1].needs[1]: A step cannot wait for itself.',
    '13:21 steps[3].parallel_group: A pipeline whose steps use "needs" cannot use "parallel_group"; say what each step waits for with "needs".',
  ]);
});

test('parallel_group keeps its meaning: stages, no needs written', async () => {
  const r = await parse(
    lines('steps:', '  - { name: a, run: x }', '  - { name: b, run: x, parallel_group: checks }', '  - { name: c, run: x, parallel_group: checks }'),
  );
  assert.deepEqual(
    r.steps.map((s) => [s.name, s.parallel_group, s.needs]),
    [
      ['a', undefined, undefined],
      ['b', 'checks', undefined],
      ['c', 'checks', undefined],
    ],
  );
});

test('matrix: cells named by their values, values as step variables, needs on the matrix wait for every cell', async () => {
  const r = await parse(
    lines(
      'steps:',
      '  - name: build',
      '    run: make',
      '    env: { CI: "1" }',
      '    matrix:',
      '      NODE: [20, 22]',
      '      OS: [debian, alpine]',
      '      exclude: [{ NODE: 20, OS: alpine }]',
      '      include: [{ NODE: 18, OS: debian }]',
      '  - name: ship',
      '    run: ship',
      '    needs: [build]',
    ),
  );
  assert.deepEqual(r.errors, []);
  const cells = ['build (NODE=20, OS=debian)', 'build (NODE=22, OS=debian)', 'build (NODE=22, OS=alpine)', 'build (NODE=18, OS=debian)'];
  assert.deepEqual(
    r.steps.map((s) => s.name),
    [...cells, 'ship'],
  );
  assert.deepEqual(r.steps[1]!.env, { CI: '1', NODE: '22', OS: 'debian' });
  assert.deepEqual(r.steps[4]!.needs, cells);
});

test('matrix in stage form: the cells are one stage', async () => {
  const r = await parse(lines('steps:', '  - { name: a, run: x }', '  - name: b', '    run: x', '    matrix: { N: [1, 2] }', '  - { name: c, run: x }'));
  assert.deepEqual(
    r.steps.map((s) => [s.name, s.parallel_group]),
    [
      ['a', undefined],
      ['b (N=1)', 'b'],
      ['b (N=2)', 'b'],
      ['c', undefined],
    ],
  );
});

test('matrix: more than 256 cells, a bad axis name, a repeated value and an exclude of no axis are located errors', async () => {
  const big = await parse(
    lines(
      'steps:',
      '  - name: a',
      '    run: x',
      '    matrix:',
      `      A: [${Array.from({ length: 17 }, (_, i) => i).join(', ')}]`,
      `      B: [${Array.from({ length: 16 }, (_, i) => i).join(', ')}]`,
    ),
  );
  assert.deepEqual(located(big.errors), ['4:5 steps[0].matrix: The matrix has 272 cells; at most 256 are allowed.']);
  const bad = await parse(lines('steps:', '  - name: a', '    run: x', '    matrix:', '      PATH: [a]', '      N: [1, 1]', '      exclude: [{ M: 1 }]'));
  assert.deepEqual(located(bad.errors), [
    '5:7 steps[0].matrix.PATH: Variable name PATH is reserved: it changes how processes start.',
    '6:14 steps[0].matrix.N[1]: "1" is listed twice.',
    '7:19 steps[0].matrix.exclude[0].M: "M" is not an axis of this matrix.',
  ]);
});

test('a variable name refused in a matrix cell points at the matrix axis', async () => {
  const r = await parse(lines('steps:', '  - name: a', '    run: x', '    matrix:', '      include: [{ LD_X: 1 }]'));
  assert.deepEqual(located(r.errors), ['5:19 steps[0].matrix.include[0].LD_X: Variable names starting with LD_ are reserved.']);
});

test('when on the file: a branch, event or paths it excludes skips the whole pipeline, with the reason the forge shows', async () => {
  const file = lines(
    'when:',
    '  branch: [main, "release/*"]',
    '  event: [push, pull_request]',
    '  paths: ["src/**"]',
    '  paths_ignore: ["src/**/*.md"]',
    'steps:',
    '  - { name: a, run: x }',
  );
  const plan = (branch: string, event: 'push' | 'pull_request' | 'tag' | 'manual', changedFiles?: string[] | null) =>
    parse(file, { context: { branch, event, changedFiles } });
  assert.equal((await plan('main', 'push', ['src/a.ts'])).skipped, null);
  assert.equal((await plan('release/1.2', 'pull_request', null)).steps.length, 1);
  assert.deepEqual((await plan('main', 'push', ['docs/a.md', 'src/x/README.md'])).skipped, { reason: 'skipped: no matching changes' });
  assert.deepEqual((await plan('feature/x', 'push', ['src/a.ts'])).skipped, { reason: 'skipped: branch "feature/x" is not in when.branch' });
  const tag = await plan('main', 'tag');
  assert.deepEqual(tag.skipped, { reason: 'skipped: event "tag" is not in when.event' });
  assert.deepEqual(tag.steps, []);
  assert.equal(tag.valid, true, 'skipped is not invalid');
  // Lint (no context) plans every step.
  assert.equal((await parse(file)).steps.length, 1);
});

test('when on a step: left out of the plan; what needed it waits for what it needed', async () => {
  const file = lines(
    'steps:',
    '  - { name: build, run: x }',
    '  - name: docs',
    '    run: x',
    '    needs: [build]',
    '    when: { paths: ["docs/**"] }',
    '  - name: publish',
    '    run: x',
    '    needs: [docs]',
    '    when: { branch: main, event: push }',
    '  - name: notify',
    '    run: x',
    '    needs: [publish]',
    '    when: { status: failure }',
  );
  const onFeature = await parse(file, { context: { branch: 'feature', event: 'push', changedFiles: ['src/a'] } });
  assert.deepEqual(
    onFeature.steps.map((s) => [s.name, s.needs, s.when]),
    [
      ['build', [], undefined],
      ['notify', ['build'], { status: 'failure' }],
    ],
  );
  const onMain = await parse(file, { context: { branch: 'main', event: 'push', changedFiles: ['docs/x.md'] } });
  assert.deepEqual(
    onMain.steps.map((s) => s.name),
    ['build', 'docs', 'publish', 'notify'],
  );
});

test('when: globs written from the root with "/" or "./" are refused', async () => {
  const r = await parse(lines('when:', '  paths: /src/**', 'steps:', '  - name: a', '    run: x', '    when: { paths_ignore: ["./docs/**"] }'));
  assert.deepEqual(located(r.errors), [
    '2:10 when.paths: Paths are relative to the repository root: drop the leading "/".',
    '6:28 steps[0].when.paths_ignore[0]: Paths are relative to the repository root: drop the leading "./".',
  ]);
});

test('a 256-cell matrix on 20 steps plans 5,120 steps', async () => {
  const axis = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(', ')}]`;
  const steps = Array.from({ length: 20 }, (_, i) =>
    lines(`  - name: s${i}`, '    run: make', `    matrix: { A: ${axis(16)}, B: ${axis(16)} }`, ...(i > 0 ? [`    needs: [s${i - 1}]`] : [])),
  ).join('');
  const r = await parse(`steps:\n${steps}`);
  assert.deepEqual(r.errors, []);
  assert.equal(r.steps.length, 5120);
  assert.equal(r.steps[256]!.needs!.length, 256);
});

test('a matrix cell named like another step is a located error (whichever cell it is)', async () => {
  const r = await parse(lines('steps:', '  - { name: "b (N=1)", run: x }', '  - name: b', '    run: x', '    matrix: { N: [1, 2] }'));
  assert.deepEqual(located(r.errors), ['3:11 steps[1].name: Step names must be unique within a pipeline.']);
  const second = await parse(lines('steps:', '  - { name: "b (N=2)", run: x }', '  - name: b', '    run: x', '    matrix: { N: [1, 2] }'));
  assert.deepEqual(located(second.errors), ['3:11 steps[1].name: A matrix cell and a step would both be named "b (N=2)".']);
});

test('the cells of a matrix are checked once by the catalogue and all carry its defaults', async () => {
  const r = await parse(lines('steps:', '  - name: b', '    run: x', '    config: { working_directory: ../out }', '    matrix: { N: [1, 2, 3] }'));
  assert.deepEqual(located(r.errors), ['4:34 steps[0].config.working_directory: Path must not leave the workspace ("..").']);
  const ok = await parse(lines('steps:', '  - name: b', '    run: x', '    matrix: { N: [1, 2, 3] }'));
  assert.deepEqual(
    ok.steps.map((s) => [s.name, s.config.shell, s.env]),
    [
      ['b (N=1)', 'bash', { N: '1' }],
      ['b (N=2)', 'bash', { N: '2' }],
      ['b (N=3)', 'bash', { N: '3' }],
    ],
  );
});
