import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configErrorsLog, readText } from './config-errors-log.js';

const run = (over: Record<string, unknown> = {}) =>
  ({
    config_errors: [
      { file: '.ansflow.yml', path: 'steps[0].needs[0]', line: 2, column: 30, message: 'No step is named "ghost".' },
      { file: 'ci/common.yml', path: '', line: 3, column: 1, message: 'Nested mappings are not allowed\nin compact mappings' },
    ],
    definition: { name: 'p', repository_url: 'git://h/r', branch: 'main', steps: [], variables: {}, config_path: '.ansflow.yml' },
    commit: 'a'.repeat(40),
    steps: [],
    ...over,
  }) as Parameters<typeof configErrorsLog>[0];

test('an invalid file: every problem on a line of its own, located by file, line, column and field', () => {
  assert.equal(
    configErrorsLog(run()),
    [
      `The pipeline file .ansflow.yml at commit ${'a'.repeat(12)} is invalid; no step was started.`,
      '2 problems:',
      '  .ansflow.yml:2:30 steps[0].needs[0]: No step is named "ghost".',
      '  ci/common.yml:3:1: Nested mappings are not allowed in compact mappings',
      '',
    ].join('\n'),
  );
  assert.match(
    configErrorsLog(run({ commit: null, config_errors: [{ file: 'f', path: 'x', line: 1, column: 1, message: 'm' }] }))!,
    /^The pipeline file \.ansflow\.yml is invalid; .*\n1 problem:\n/,
  );
});

test("a run with steps, or without problems, keeps the log store's log", () => {
  assert.equal(configErrorsLog(run({ config_errors: null })), null);
  assert.equal(configErrorsLog(run({ config_errors: [] })), null);
  assert.equal(configErrorsLog(run({ steps: [{ id: 1 }] })), null);
});

test('reads from a byte offset like the log store (multi-byte text counted in bytes)', () => {
  const text = 'é1\nline 2\n';
  assert.deepEqual(readText(text, 0), { data: Buffer.from(text), nextOffset: 11 });
  assert.equal(readText(text, 4).data.toString(), 'line 2\n');
  assert.equal(readText(text, 99).data.length, 0);
  assert.equal(readText(text, 99).nextOffset, 11);
});
