import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendText, createSection } from './log-document';
import { findRanges, highlightSpans, searchSections } from './log-search';
import { parseAnsi } from './ansi';

const E = '\u001b';

describe('searchSections', () => {
  const a = createSection('step-1', 1, 'Build');
  appendText(a, `compiling\n${E}[31mERROR${E}[0m: missing\nok\n`);
  const b = createSection('step-2', 2, 'Test');
  appendText(b, 'error in test\npartial error');

  it('finds lines case-insensitively, ignoring escape codes', () => {
    const matches = searchSections([a, b], 'error');
    assert.deepEqual(
      matches.map((m) => m.lineNumber),
      [2, 4, 5],
    );
    assert.deepEqual(matches[1], { sectionIndex: 1, lineIndex: 0, lineNumber: 4 });
  });

  it('supports case-sensitive search and a limit', () => {
    assert.deepEqual(
      searchSections([a, b], 'ERROR', { caseSensitive: true }).map((m) => m.lineNumber),
      [2],
    );
    assert.equal(searchSections([a, b], 'e', { limit: 2 }).length, 2);
  });

  it('does not match inside escape sequences', () => {
    assert.deepEqual(searchSections([a, b], '31m'), []);
  });

  it('matches nothing for an empty query', () => {
    assert.deepEqual(searchSections([a, b], ''), []);
  });
});

describe('highlighting', () => {
  it('finds non-overlapping ranges', () => {
    assert.deepEqual(findRanges('aaaa', 'aa'), [
      [0, 2],
      [2, 4],
    ]);
    assert.deepEqual(findRanges('Foo foo', 'FOO'), [
      [0, 3],
      [4, 7],
    ]);
  });

  it('splits styled spans at match boundaries, keeping classes', () => {
    const spans = parseAnsi(`plain ${E}[32mgreen${E}[0m tail`);
    const out = highlightSpans(spans, 'n gr');
    assert.deepEqual(out, [
      { text: 'plai', classes: [], match: false },
      { text: 'n ', classes: [], match: true },
      { text: 'gr', classes: ['ansi-fg-2'], match: true },
      { text: 'een', classes: ['ansi-fg-2'], match: false },
      { text: ' tail', classes: [], match: false },
    ]);
  });

  it('returns spans unchanged when nothing matches', () => {
    const spans = parseAnsi('abc');
    assert.deepEqual(highlightSpans(spans, 'x'), [{ text: 'abc', classes: [], match: false }]);
  });

  it('keeps markup in a match as text', () => {
    const out = highlightSpans(parseAnsi('<script>alert(1)</script>'), 'alert');
    assert.equal(out.map((s) => s.text).join(''), '<script>alert(1)</script>');
    assert.deepEqual(
      out.filter((s) => s.match).map((s) => s.text),
      ['alert'],
    );
  });
});
