import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePipelineFile } from './parse-pipeline-file.js';
import { IncludeNotAvailableError, type FileRef, type FileSource } from './types.js';

const lines = (...l: string[]) => `${l.join('\n')}\n`;
const located = (problems: { file: string; line: number; column: number; path: string; message: string }[]) =>
  problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.path}: ${p.message}`);

/** Files by `repository@ref:path` (`self` for the pipeline's repository); records every read. */
function memorySource(files: Record<string, string>): FileSource & { reads: FileRef[] } {
  const reads: FileRef[] = [];
  return {
    reads,
    async read(ref) {
      reads.push(ref);
      const key = `${ref.repository ?? 'self'}@${ref.ref ?? ''}:${ref.path}`;
      const content = files[key];
      if (content === undefined) throw new Error(`no such file: ${ref.path}`);
      return content;
    },
  };
}

const TEMPLATES = 'https://git.example.com/ci/templates.git';

test('includes: same repository at the same commit, and another repository pinned to a ref with a credential; included steps come first', async () => {
  const source = memorySource({
    'self@:ci/lint.yml': lines('variables: { LINT: strict, SHARED: from-lint }', 'steps:', '  - { name: lint, run: make lint }'),
    [`${TEMPLATES}@v1.2.0:node.yml`]: lines('include: [common.yml]', 'steps:', '  - { name: node-test, run: npm test }'),
    [`${TEMPLATES}@v1.2.0:common.yml`]: lines('steps:', '  - { name: setup, run: ./setup }'),
  });
  const r = await parsePipelineFile(
    lines(
      'variables: { SHARED: mine }',
      'include:',
      '  - ci/lint.yml',
      `  - { repository: "${TEMPLATES}", ref: v1.2.0, path: node.yml, credential: templates-token }`,
      'steps:',
      '  - name: build',
      '    run: make',
      '    needs: [lint, node-test]',
    ),
    { path: '.ansflow.yml', source },
  );
  assert.deepEqual(r.errors, []);
  assert.deepEqual(
    r.steps.map((s) => s.name),
    ['lint', 'setup', 'node-test', 'build'],
  );
  assert.deepEqual(r.variables, { LINT: 'strict', SHARED: 'mine' });
  assert.deepEqual(source.reads, [
    { repository: null, ref: null, path: 'ci/lint.yml' },
    { repository: TEMPLATES, ref: 'v1.2.0', path: 'node.yml', credential: 'templates-token' },
    // A template's own include is read from the template's repository, at its ref, with its credential.
    { repository: TEMPLATES, ref: 'v1.2.0', path: 'common.yml', credential: 'templates-token' },
  ]);
});

test('problems in an included file name that file and point into it', async () => {
  const source = memorySource({ 'self@:ci/a.yml': lines('steps:', '  - name: a', '    run: x', '    retries: lots') });
  const r = await parsePipelineFile(lines('include: [ci/a.yml]', 'steps:', '  - { name: b, run: y }'), { path: '.ansflow.yml', source });
  assert.deepEqual(located(r.errors), ['ci/a.yml:4:14 steps[0].retries: Must be a whole number.']);
});

test('a step of an included file that fails the catalogue is located in that file', async () => {
  const source = memorySource({ 'self@:ci/a.yml': lines('steps:', '  - name: a', '    type: nope') });
  const r = await parsePipelineFile(lines('include: [ci/a.yml]', 'steps:', '  - { name: b, run: y }'), { path: '.ansflow.yml', source });
  assert.deepEqual(
    r.errors.map((e) => `${e.file}:${e.line}:${e.column} ${e.path}`),
    ['ci/a.yml:3:11 steps[0].type'],
  );
});

test('an include cycle is reported with the files in it; the same file included twice is read once', async () => {
  const source = memorySource({
    'self@:a.yml': lines('include: [b.yml, shared.yml]', 'steps: [{ name: a, run: x }]'),
    'self@:b.yml': lines('include: [shared.yml, ./a.yml]', 'steps: [{ name: b, run: x }]'),
    'self@:shared.yml': lines('steps: [{ name: shared, run: x }]'),
  });
  const r = await parsePipelineFile(lines('include: [a.yml]', 'steps: [{ name: top, run: x }]'), { path: '.ansflow.yml', source });
  assert.deepEqual(located(r.errors), ['b.yml:1:23 include[1]: These files include each other: a.yml → b.yml → a.yml.']);
  assert.equal(source.reads.filter((f) => f.path === 'shared.yml').length, 1);

  const self = await parsePipelineFile(lines('include: [.ansflow.yml]', 'steps: [{ name: top, run: x }]'), { path: '.ansflow.yml', source });
  assert.deepEqual(located(self.errors), ['.ansflow.yml:1:11 include[0]: These files include each other: .ansflow.yml → .ansflow.yml.']);
});

test('includes nest at most maxIncludeDepth deep', async () => {
  const source = memorySource({
    'self@:1.yml': lines('include: [2.yml]'),
    'self@:2.yml': lines('include: [3.yml]'),
    'self@:3.yml': lines('steps: [{ name: deep, run: x }]'),
  });
  const r = await parsePipelineFile(lines('include: [1.yml]', 'steps: [{ name: top, run: x }]'), { path: '.ansflow.yml', source, maxIncludeDepth: 2 });
  assert.deepEqual(located(r.errors), ['2.yml:1:11 include[0]: Includes may nest at most 2 deep; 3.yml would be 3 deep.']);
  const deeper = await parsePipelineFile(lines('include: [1.yml]', 'steps: [{ name: top, run: x }]'), { path: '.ansflow.yml', source, maxIncludeDepth: 3 });
  assert.deepEqual(
    deeper.steps.map((s) => s.name),
    ['deep', 'top'],
  );
});

test('an include that cannot be read is an error at the include', async () => {
  const r = await parsePipelineFile(lines('include:', '  - ci/missing.yml', 'steps: [{ name: top, run: x }]'), {
    path: '.ansflow.yml',
    source: memorySource({}),
  });
  assert.deepEqual(located(r.errors), ['.ansflow.yml:2:5 include[0]: ci/missing.yml cannot be read: no such file: ci/missing.yml']);
  assert.equal(r.valid, false);
});

test('include entries that escape the repository, name a ref without a repository, or another repository without a ref are refused', async () => {
  const r = await parsePipelineFile(
    lines(
      'include:',
      '  - ../outside.yml',
      '  - { path: a.yml, ref: main }',
      `  - { path: a.yml, repository: "${TEMPLATES}" }`,
      '  - { path: a.yml, repository: "https://user:secret@git.example.com/t.git", ref: v1 }',
      '  - { path: /etc/passwd, repository: "file:///etc", ref: v1 }',
      'steps: [{ name: top, run: x }]',
    ),
    { path: '.ansflow.yml', source: memorySource({}) },
  );
  assert.deepEqual(
    r.errors.map((e) => `${e.line}:${e.column} ${e.path}`),
    ['2:5 include[0]', '3:25 include[1].ref', '4:5 include[2].ref', '5:32 include[3].repository', '6:13 include[4].path', '6:38 include[4].repository'],
  );
  assert.match(r.errors[0]!.message, /must not leave the workspace/);
  assert.match(r.errors[2]!.message, /pinned to a ref/);
  assert.match(r.errors[3]!.message, /password or token/);
});

test('without a source (lint), includes are warnings and needs they might satisfy are warnings too; with one that cannot read another repository, the same', async () => {
  const file = lines('include:', '  - ci/common.yml', 'steps:', '  - name: build', '    run: make', '    needs: [setup]');
  const lint = await parsePipelineFile(file, { path: '.ansflow.yml' });
  assert.equal(lint.valid, true);
  assert.deepEqual(located(lint.warnings), [
    '.ansflow.yml:2:5 include[0]: ci/common.yml was not read: includes are read from the repository when a run starts.',
    '.ansflow.yml:6:13 steps[0].needs[0]: There is no step named "setup", unless an include that was not read has it.',
  ]);
  assert.deepEqual(lint.steps, [{ name: 'build', type: 'shell_command', config: { command: 'make', shell: 'bash' }, needs: [] }]);

  const offline: FileSource = {
    async read() {
      throw new IncludeNotAvailableError('another repository is not read offline');
    },
  };
  const cli = await parsePipelineFile(file, { path: '.ansflow.yml', source: offline });
  assert.equal(cli.valid, true);
  assert.equal(cli.warnings[0]!.message, 'ci/common.yml was not read: another repository is not read offline');
});

test('an included file may not carry a file-level when', async () => {
  const source = memorySource({ 'self@:a.yml': lines('when: { branch: main }', 'steps: [{ name: a, run: x }]') });
  const r = await parsePipelineFile(lines('include: [a.yml]', 'steps: [{ name: b, run: x }]'), { path: '.ansflow.yml', source });
  assert.deepEqual(
    r.errors.map((e) => `${e.file}:${e.line}:${e.column} ${e.path}`),
    ['a.yml:1:1 when'],
  );
});

test('step names must be unique across files', async () => {
  const source = memorySource({ 'self@:a.yml': lines('steps: [{ name: build, run: x }]') });
  const r = await parsePipelineFile(lines('include: [a.yml]', 'steps:', '  - { name: build, run: y }'), { path: '.ansflow.yml', source });
  assert.deepEqual(located(r.errors), ['.ansflow.yml:3:13 steps[0].name: Another step is already named "build" (in a.yml).']);
});
