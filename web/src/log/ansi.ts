/**
 * ANSI escape parser for log lines. Turns one line of terminal output into plain-text spans with
 * CSS class names; the renderer puts each span's text in a text node, so log output can never
 * become markup or a link.
 *
 * Understood: SGR (`ESC [ … m`) reset, bold, dim, italic, underline, foreground 30–37 / 90–97,
 * background 40–47 / 100–107, the matching "off" codes, and 256-colour / truecolor (38;5;n,
 * 38;2;r;g;b and 48;…), which are approximated to the 16 basic colours. Every other escape
 * sequence (cursor moves, erase, OSC hyperlinks and titles, charset selection) and every other
 * control character except tab is stripped.
 *
 * No DOM or React here: this module runs in Node for its tests.
 */

export interface AnsiSpan {
  text: string;
  /** CSS classes, e.g. ["ansi-fg-1", "ansi-bold"]; empty for plain text. */
  classes: string[];
}

interface SgrState {
  /** 0–15: 0–7 normal, 8–15 bright. */
  fg: number | null;
  bg: number | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
}

const ESC = '\u001b';

function emptyState(): SgrState {
  return { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false };
}

function classesOf(s: SgrState): string[] {
  const out: string[] = [];
  if (s.fg !== null) out.push(`ansi-fg-${s.fg}`);
  if (s.bg !== null) out.push(`ansi-bg-${s.bg}`);
  if (s.bold) out.push('ansi-bold');
  if (s.dim) out.push('ansi-dim');
  if (s.italic) out.push('ansi-italic');
  if (s.underline) out.push('ansi-underline');
  return out;
}

/** Nearest of the 16 basic colours for an RGB triple (0–255 each). */
export function nearestBasicColor(r: number, g: number, b: number): number {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const bright = max > 170 || (max > 100 && min > 60);
  if (max - min < 30) {
    // greys
    if (max < 60) return 0;
    if (max < 150) return 8;
    if (max < 220) return 7;
    return 15;
  }
  const threshold = max / 2;
  const index = (r > threshold ? 1 : 0) + (g > threshold ? 2 : 0) + (b > threshold ? 4 : 0);
  return index + (bright ? 8 : 0);
}

/** Basic colour for an xterm 256-colour index. */
export function color256ToBasic(n: number): number {
  if (n < 0 || n > 255 || !Number.isFinite(n)) return 7;
  if (n < 16) return n;
  if (n >= 232) {
    const level = 8 + (n - 232) * 10;
    return nearestBasicColor(level, level, level);
  }
  const c = n - 16;
  const steps = [0, 95, 135, 175, 215, 255];
  const r = steps[Math.floor(c / 36)] ?? 0;
  const g = steps[Math.floor(c / 6) % 6] ?? 0;
  const b = steps[c % 6] ?? 0;
  return nearestBasicColor(r, g, b);
}

/** Reads an extended colour (`5;n` or `2;r;g;b`) starting at params[i]; returns [colour, next index]. */
function readExtendedColor(params: number[], i: number): [number | null, number] {
  const mode = params[i];
  if (mode === 5) {
    const n = params[i + 1];
    return [n === undefined ? null : color256ToBasic(n), i + 2];
  }
  if (mode === 2) {
    const r = params[i + 1] ?? 0;
    const g = params[i + 2] ?? 0;
    const b = params[i + 3] ?? 0;
    return [nearestBasicColor(r, g, b), i + 4];
  }
  return [null, i + 1];
}

function applySgr(state: SgrState, rawParams: string): void {
  const params = rawParams === '' ? [0] : rawParams.split(/[;:]/).map((p) => (p === '' ? 0 : Number.parseInt(p, 10)));
  let i = 0;
  while (i < params.length) {
    const p = params[i] ?? 0;
    i += 1;
    if (Number.isNaN(p)) continue;
    if (p === 0) Object.assign(state, emptyState());
    else if (p === 1) state.bold = true;
    else if (p === 2) state.dim = true;
    else if (p === 3) state.italic = true;
    else if (p === 4) state.underline = true;
    else if (p === 22) {
      state.bold = false;
      state.dim = false;
    } else if (p === 23) state.italic = false;
    else if (p === 24) state.underline = false;
    else if (p >= 30 && p <= 37) state.fg = p - 30;
    else if (p >= 90 && p <= 97) state.fg = p - 90 + 8;
    else if (p === 39) state.fg = null;
    else if (p >= 40 && p <= 47) state.bg = p - 40;
    else if (p >= 100 && p <= 107) state.bg = p - 100 + 8;
    else if (p === 49) state.bg = null;
    else if (p === 38 || p === 48) {
      const [color, next] = readExtendedColor(params, i);
      i = next;
      if (color !== null) {
        if (p === 38) state.fg = color;
        else state.bg = color;
      }
    }
    // anything else (blink, inverse, fonts, …) is ignored
  }
}

/** Removes control characters other than tab (C0 and DEL, plus C1 controls). */
function stripControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, '');
}

/**
 * Parses one line. Adjacent text with the same style is merged into one span; spans never carry
 * empty text. Style does not carry across lines, so any line can be rendered on its own (the
 * log view is virtualized and renders lines out of order).
 */
export function parseAnsi(line: string): AnsiSpan[] {
  const spans: AnsiSpan[] = [];
  const state = emptyState();
  let classes: string[] = [];
  let buffer = '';

  const flush = () => {
    const text = stripControls(buffer);
    buffer = '';
    if (text === '') return;
    const last = spans[spans.length - 1];
    if (last && last.classes.join(' ') === classes.join(' ')) last.text += text;
    else spans.push({ text, classes });
  };

  // fast path: nothing to interpret
  if (line.indexOf(ESC) === -1 && line.indexOf('\u009b') === -1) {
    const text = stripControls(line);
    return text === '' ? [] : [{ text, classes: [] }];
  }

  let i = 0;
  const n = line.length;
  while (i < n) {
    const ch = line[i];
    const isCsi8bit = ch === '\u009b';
    if (ch !== ESC && !isCsi8bit) {
      buffer += ch;
      i += 1;
      continue;
    }
    const next = isCsi8bit ? '[' : line[i + 1];
    const start = isCsi8bit ? i + 1 : i + 2;
    if (next === '[') {
      // CSI: parameters 0x30–0x3f, intermediates 0x20–0x2f, final 0x40–0x7e
      let j = start;
      while (j < n && /[0-?]/.test(line[j] as string)) j += 1;
      const params = line.slice(start, j);
      while (j < n && /[ -/]/.test(line[j] as string)) j += 1;
      const final = line[j];
      if (final === undefined) break; // unterminated: drop the rest of the sequence
      if (final === 'm' && /^[0-9;:]*$/.test(params)) {
        flush();
        applySgr(state, params);
        classes = classesOf(state);
      }
      i = j + 1;
    } else if (next === ']' || next === 'P' || next === '_' || next === '^' || next === 'X') {
      // OSC / DCS / APC / PM / SOS: up to BEL or ST (ESC \)
      let j = start;
      while (j < n) {
        if (line[j] === '\u0007') {
          j += 1;
          break;
        }
        if (line[j] === ESC && line[j + 1] === '\\') {
          j += 2;
          break;
        }
        j += 1;
      }
      i = j;
    } else if (next === undefined) {
      i += 1;
    } else if (/[ -/]/.test(next)) {
      // nF sequences such as charset selection ESC ( B: intermediates then one final byte
      let j = i + 1;
      while (j < n && /[ -/]/.test(line[j] as string)) j += 1;
      i = j + 1;
    } else {
      // two-character escape (ESC 7, ESC =, ESC c, …)
      i += 2;
    }
  }
  flush();
  return spans;
}

/** The line's visible text with every escape sequence removed. */
export function stripAnsi(line: string): string {
  if (line.indexOf(ESC) === -1 && line.indexOf('\u009b') === -1) return stripControls(line);
  let out = '';
  for (const span of parseAnsi(line)) out += span.text;
  return out;
}
