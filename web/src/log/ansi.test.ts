import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { color256ToBasic, nearestBasicColor, parseAnsi, stripAnsi } from './ansi';

const E = '\u001b';

describe('parseAnsi', () => {
  it('returns plain text as one unstyled span', () => {
    assert.deepEqual(parseAnsi('hello world'), [{ text: 'hello world', classes: [] }]);
  });

  it('returns no spans for an empty line', () => {
    assert.deepEqual(parseAnsi(''), []);
    assert.deepEqual(parseAnsi(`${E}[31m${E}[0m`), []);
  });

  it('applies basic foreground colours and reset', () => {
    assert.deepEqual(parseAnsi(`a${E}[31mred${E}[0mb`), [
      { text: 'a', classes: [] },
      { text: 'red', classes: ['ansi-fg-1'] },
      { text: 'b', classes: [] },
    ]);
  });

  it('treats ESC[m as reset', () => {
    assert.deepEqual(parseAnsi(`${E}[32mok${E}[mplain`), [
      { text: 'ok', classes: ['ansi-fg-2'] },
      { text: 'plain', classes: [] },
    ]);
  });

  it('handles bright foregrounds 90–97 and backgrounds 40–47 / 100–107', () => {
    assert.deepEqual(parseAnsi(`${E}[97;41mX${E}[104mY`), [
      { text: 'X', classes: ['ansi-fg-15', 'ansi-bg-1'] },
      { text: 'Y', classes: ['ansi-fg-15', 'ansi-bg-12'] },
    ]);
  });

  it('handles bold and combined parameters, and 22/39/49 off codes', () => {
    assert.deepEqual(parseAnsi(`${E}[1;33mwarn${E}[22mthin${E}[39mdefault`), [
      { text: 'warn', classes: ['ansi-fg-3', 'ansi-bold'] },
      { text: 'thin', classes: ['ansi-fg-3'] },
      { text: 'default', classes: [] },
    ]);
  });

  it('merges adjacent spans with the same style', () => {
    assert.deepEqual(parseAnsi(`${E}[31ma${E}[31mb`), [{ text: 'ab', classes: ['ansi-fg-1'] }]);
  });

  it('tolerates 256-colour and truecolor sequences', () => {
    assert.deepEqual(parseAnsi(`${E}[38;5;196mred${E}[0m`), [{ text: 'red', classes: ['ansi-fg-9'] }]);
    assert.deepEqual(parseAnsi(`${E}[38;5;2mgreen`), [{ text: 'green', classes: ['ansi-fg-2'] }]);
    assert.deepEqual(parseAnsi(`${E}[48;2;0;0;200mblue`), [{ text: 'blue', classes: ['ansi-bg-12'] }]);
    // a truncated extended colour must not throw or leak parameters
    assert.deepEqual(parseAnsi(`${E}[38;5mx`), [{ text: 'x', classes: [] }]);
  });

  it('strips non-SGR CSI sequences (cursor moves, erase line)', () => {
    assert.deepEqual(parseAnsi(`${E}[2K${E}[1Gprogress ${E}[?25l50%`), [{ text: 'progress 50%', classes: [] }]);
  });

  it('strips OSC hyperlinks and window titles, keeping only the visible text', () => {
    const link = `${E}]8;;javascript:alert(1)${E}\\click${E}]8;;${E}\\`;
    assert.deepEqual(parseAnsi(link), [{ text: 'click', classes: [] }]);
    assert.deepEqual(parseAnsi(`${E}]0;title\u0007after`), [{ text: 'after', classes: [] }]);
  });

  it('strips other escapes and control characters but keeps tabs', () => {
    assert.deepEqual(parseAnsi(`${E}(Ba\tb\u0007c\u0000d`), [{ text: 'a\tbcd', classes: [] }]);
  });

  it('drops an unterminated escape sequence at the end of a line', () => {
    assert.deepEqual(parseAnsi(`text${E}[31`), [{ text: 'text', classes: [] }]);
    assert.deepEqual(parseAnsi(`text${E}`), [{ text: 'text', classes: [] }]);
  });

  it('keeps HTML as literal text', () => {
    const line = '<script>alert(1)</script>';
    assert.deepEqual(parseAnsi(line), [{ text: line, classes: [] }]);
  });

  it('keeps an ANSI-wrapped <img onerror> as literal text inside a coloured span', () => {
    const html = '<img src=x onerror=alert(1)>';
    const spans = parseAnsi(`${E}[31m${html}${E}[0m`);
    assert.deepEqual(spans, [{ text: html, classes: ['ansi-fg-1'] }]);
  });

  it('never produces class names from log content', () => {
    const spans = parseAnsi(`${E}[31;"onload=x;99999m${E}[1;foo mtext`);
    for (const span of spans) for (const c of span.classes) assert.match(c, /^ansi-[a-z]+(-\d+)?$/);
  });
});

describe('stripAnsi', () => {
  it('removes every escape sequence', () => {
    assert.equal(stripAnsi(`${E}[1;31mError:${E}[0m boom`), 'Error: boom');
    assert.equal(stripAnsi('plain'), 'plain');
  });
});

describe('colour approximation', () => {
  it('maps the 16 basic 256-colour indexes to themselves', () => {
    for (let i = 0; i < 16; i++) assert.equal(color256ToBasic(i), i);
  });
  it('maps the colour cube and greys to a basic colour', () => {
    assert.equal(color256ToBasic(21), 12); // pure blue
    assert.equal(color256ToBasic(232), 0); // near black
    assert.equal(color256ToBasic(255), 15); // near white
    assert.equal(nearestBasicColor(0, 128, 0), 2);
  });
});
