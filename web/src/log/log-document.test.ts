import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendText,
  buildRowIndex,
  collapseCarriageReturns,
  createSection,
  documentToText,
  lineCount,
  locateLine,
  rowAt,
  rowOfLine,
  splitLines,
  type LogSection,
} from './log-document';

function section(key: string, stepId: number | null, text: string): LogSection {
  const s = createSection(key, stepId, key);
  appendText(s, text);
  return s;
}

describe('splitting lines', () => {
  it('splits on newlines without a phantom last line', () => {
    assert.deepEqual(splitLines('a\nb\n'), ['a', 'b']);
    assert.deepEqual(splitLines('a\nb'), ['a', 'b']);
    assert.deepEqual(splitLines(''), []);
    assert.deepEqual(splitLines('\n'), ['']);
  });

  it('handles CRLF and carriage-return progress bars', () => {
    assert.deepEqual(splitLines('a\r\nb\r\n'), ['a', 'b']);
    assert.equal(collapseCarriageReturns('10%\r50%\r100%'), '100%');
    assert.equal(collapseCarriageReturns('done\r'), 'done');
  });

  it('appends chunks that split lines anywhere', () => {
    const s = createSection('step-1', 1, 'Build');
    assert.equal(appendText(s, 'hel'), 0);
    assert.equal(appendText(s, 'lo\nwor'), 1);
    assert.deepEqual(s.lines, ['hello']);
    assert.equal(s.partial, 'wor');
    assert.equal(lineCount(s), 2);
    appendText(s, 'ld\n');
    assert.deepEqual(s.lines, ['hello', 'world']);
    assert.equal(s.partial, '');
    assert.equal(lineCount(s), 2);
  });

  it('joins a CRLF split across chunks', () => {
    const s = createSection('x', null, 'x');
    appendText(s, 'line\r');
    appendText(s, '\nnext\n');
    assert.deepEqual(s.lines, ['line', 'next']);
  });

  it('handles a large log quickly', () => {
    const s = createSection('big', 1, 'big');
    const text = Array.from({ length: 200_000 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const started = performance.now();
    appendText(s, text);
    const index = buildRowIndex([s], new Set());
    assert.equal(index.totalLines, 200_000);
    assert.equal(rowAt(index, 150_001)?.kind, 'line');
    assert.ok(performance.now() - started < 2000);
  });
});

describe('row index', () => {
  const a = section('step-1', 1, 'a1\na2\n');
  const b = section('step-2', 2, 'b1\nb2\nb3\n');

  it('interleaves headers and lines with global line numbers', () => {
    const index = buildRowIndex([a, b], new Set());
    assert.equal(index.totalRows, 2 + 2 + 3);
    assert.equal(index.totalLines, 5);
    assert.deepEqual(
      Array.from({ length: index.totalRows }, (_, i) => {
        const row = rowAt(index, i);
        return row?.kind === 'header' ? `# ${row.section.key}` : `${row?.lineNumber}:${row?.kind === 'line' ? row.text : ''}`;
      }),
      ['# step-1', '1:a1', '2:a2', '# step-2', '3:b1', '4:b2', '5:b3'],
    );
    assert.equal(rowAt(index, -1), null);
    assert.equal(rowAt(index, 7), null);
  });

  it('folds a section to its header without renumbering lines', () => {
    const index = buildRowIndex([a, b], new Set(['step-1']));
    assert.equal(index.totalRows, 1 + 1 + 3);
    const row = rowAt(index, 2);
    assert.equal(row?.kind, 'line');
    assert.equal(row?.kind === 'line' && row.lineNumber, 3);
    const header = rowAt(index, 0);
    assert.equal(header?.kind === 'header' && header.folded, true);
    assert.equal(header?.kind === 'header' && header.lineCount, 2);
  });

  it('finds the row of a line number, or null when folded', () => {
    const open = buildRowIndex([a, b], new Set());
    assert.equal(rowOfLine(open, 1), 1);
    assert.equal(rowOfLine(open, 4), 5);
    assert.equal(rowOfLine(open, 6), null);
    assert.deepEqual(locateLine(open, 4), { sectionIndex: 1, lineIndex: 1 });
    const folded = buildRowIndex([a, b], new Set(['step-2']));
    assert.equal(rowOfLine(folded, 4), null);
  });

  it('omits headers for a single log without steps', () => {
    const only = section('preamble', null, 'x\ny\n');
    const index = buildRowIndex([only], new Set(['preamble']));
    assert.equal(index.withHeaders, false);
    assert.equal(index.totalRows, 2);
    assert.equal(rowAt(index, 0)?.kind, 'line');
  });

  it('shows a partial last line', () => {
    const s = section('step-3', 3, 'done\nworking');
    const index = buildRowIndex([s], new Set());
    const last = rowAt(index, 2);
    assert.equal(last?.kind === 'line' && last.text, 'working');
  });
});

describe('documentToText', () => {
  it('writes a header per step section', () => {
    const pre = section('preamble', null, 'setup\n');
    const a = section('step-1', 1, 'one\n');
    a.title = 'Build';
    assert.equal(documentToText([pre, a]), 'setup\n==> Build\none\n');
    assert.equal(documentToText([]), '');
  });
});
