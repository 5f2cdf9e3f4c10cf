import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Text } from '@codemirror/state';
import { toDiagnostics } from './lint-diagnostics';

const doc = Text.of(['steps:', '  - name: build', '    needs: [nope]', '', '    run: make']);
const at = (from: number, to: number) => doc.sliceString(from, to);

describe('lint errors as editor diagnostics', () => {
  it('underlines the word at the line and column the API names', () => {
    const [d] = toDiagnostics([{ path: 'steps[0].needs[0]', line: 3, column: 13, message: 'unknown step "nope"' }], doc);
    assert.equal(at(d!.from, d!.to), 'nope');
    assert.equal(doc.lineAt(d!.from).number, 3);
    assert.equal(d!.message, 'steps[0].needs[0]: unknown step "nope"');
    assert.equal(d!.severity, 'error');
  });

  it('a key is underlined up to its colon', () => {
    const [d] = toDiagnostics([{ path: 'steps[0].name', line: 2, column: 5, message: 'x' }], doc);
    assert.equal(at(d!.from, d!.to), 'name');
  });

  it('marks the whole line when the column is past its end or the line is empty', () => {
    const [past, empty] = toDiagnostics(
      [
        { path: '', line: 2, column: 99, message: 'a' },
        { path: '', line: 4, column: 1, message: 'b' },
      ],
      doc,
    );
    assert.equal(at(past!.from, past!.to), '  - name: build');
    assert.equal(empty!.from, doc.line(4).from);
    assert.equal(empty!.to, empty!.from);
  });

  it('puts an error without a place on line 1, and clamps a line past the end to the last', () => {
    const [none, beyond] = toDiagnostics(
      [
        { path: 'include[0]', line: null, column: null, message: 'cannot be read' },
        { path: '', line: 40, column: 3, message: 'unexpected end' },
      ],
      doc,
    );
    assert.equal(at(none!.from, none!.to), 'steps:');
    assert.equal(doc.lineAt(beyond!.from).number, 5);
  });
});
