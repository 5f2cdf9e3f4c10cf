import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { acceptChunk, byteLength, drainChunks } from './log-offsets';
import { parseRunLog } from './run-log-parser';
import { lineCount } from './log-document';

describe('byte offsets', () => {
  it('counts UTF-8 bytes', () => {
    assert.equal(byteLength('abc'), 3);
    assert.equal(byteLength('é'), 2);
    assert.equal(byteLength('✓'), 3);
  });

  it('appends a chunk that starts where the known bytes end', () => {
    assert.deepEqual(acceptChunk(5, 5, 'hello'), { kind: 'append', text: 'hello', nextOffset: 10 });
  });

  it('ignores a chunk that is already known', () => {
    assert.deepEqual(acceptChunk(10, 0, 'hello'), { kind: 'duplicate' });
    assert.deepEqual(acceptChunk(10, 5, 'hello'), { kind: 'duplicate' });
  });

  it('keeps only the new tail of an overlapping chunk, by bytes', () => {
    assert.deepEqual(acceptChunk(3, 0, 'hello'), { kind: 'append', text: 'lo', nextOffset: 5 });
    // 'é' is two bytes: known=3 covers "aé"
    assert.deepEqual(acceptChunk(3, 0, 'aébc'), { kind: 'append', text: 'bc', nextOffset: 5 });
  });

  it('reports a gap when bytes are missing', () => {
    assert.deepEqual(acceptChunk(3, 7, 'x'), { kind: 'gap', from: 3 });
  });

  it('drains queued chunks in offset order and stops at a gap', () => {
    assert.deepEqual(
      drainChunks(4, [
        { offset: 6, text: 'gh' },
        { offset: 2, text: 'cdef' },
      ]),
      { text: 'efgh', known: 8, gapFrom: null },
    );
    assert.deepEqual(drainChunks(0, [{ offset: 3, text: 'x' }]), { text: '', known: 0, gapFrom: 0 });
  });
});

describe('parseRunLog', () => {
  const steps = [
    { id: 11, name: 'Checkout' },
    { id: 12, name: 'Lint' },
    { id: 13, name: 'Unit' },
    { id: 14, name: 'Deploy' },
  ];
  const stepsWithGroups = [
    { id: 11, name: 'Checkout', parallel_group: null },
    { id: 12, name: 'Lint', parallel_group: 'checks' },
    { id: 13, name: 'Unit', parallel_group: 'checks' },
    { id: 14, name: 'Deploy', parallel_group: null },
  ];

  it('splits the whole-run log into step sections', () => {
    const text = ['starting run', '==> Checkout', 'cloning', 'done', '==> Deploy', 'shipping'].join('\n') + '\n';
    const sections = parseRunLog(text, steps);
    assert.deepEqual(
      sections.map((s) => [s.key, s.stepId, s.title, s.lines]),
      [
        ['preamble', null, 'Run', ['starting run']],
        ['step-11', 11, 'Checkout', ['cloning', 'done']],
        ['step-14', 14, 'Deploy', ['shipping']],
      ],
    );
  });

  it('routes prefixed lines of parallel steps to their own sections', () => {
    const text = ['==> Lint', '==> Unit', '[Unit] test 1 ok', '[Lint] no problems', '[Unit] test 2 ok', '==> Deploy', '[Unit] literal'].join('\n');
    const sections = parseRunLog(text, stepsWithGroups);
    const byTitle = Object.fromEntries(sections.map((s) => [s.title, s.lines]));
    assert.deepEqual(byTitle.Lint, ['no problems']);
    assert.deepEqual(byTitle.Unit, ['test 1 ok', 'test 2 ok']);
    // after the group, a sequential step keeps bracketed text as it is
    assert.deepEqual(byTitle.Deploy, ['[Unit] literal']);
  });

  it('without group information, treats consecutive headers as a parallel group', () => {
    const text = ['==> Lint', '==> Unit', '[Unit] a', '[Lint] b', '==> Deploy', 'plain', '[Unit] literal'].join('\n');
    const byTitle = Object.fromEntries(parseRunLog(text, steps).map((s) => [s.title, s.lines]));
    assert.deepEqual(byTitle.Lint, ['b']);
    assert.deepEqual(byTitle.Unit, ['a']);
  });

  it('keeps a header for an unknown step name', () => {
    const sections = parseRunLog('==> Mystery\nx\n', steps);
    assert.equal(sections[0]?.stepId, null);
    assert.equal(sections[0]?.title, 'Mystery');
    assert.equal(lineCount(sections[0]!), 1);
  });

  it('returns no sections for an empty log', () => {
    assert.deepEqual(parseRunLog('', steps), []);
  });
});
