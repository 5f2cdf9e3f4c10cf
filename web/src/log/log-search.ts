/**
 * Search within a log: which lines contain the query (escape sequences ignored), and where inside
 * a line's styled spans the matches fall so the view can highlight them. Pure TypeScript.
 */
import type { AnsiSpan } from './ansi';
import { stripAnsi } from './ansi';
import { lineAt, lineCount, type LogSection } from './log-document';

export interface LogMatch {
  sectionIndex: number;
  lineIndex: number;
  /** Global 1-based line number. */
  lineNumber: number;
}

export interface SearchOptions {
  caseSensitive?: boolean;
  /** Stop after this many matching lines (keeps a search in a huge log bounded). */
  limit?: number;
}

/** Lines whose visible text contains `query`, in document order. An empty query matches nothing. */
export function searchSections(sections: LogSection[], query: string, options: SearchOptions = {}): LogMatch[] {
  if (query === '') return [];
  const caseSensitive = options.caseSensitive ?? false;
  const limit = options.limit ?? 100_000;
  const needle = caseSensitive ? query : query.toLowerCase();
  const matches: LogMatch[] = [];
  let lineNumber = 1;
  for (let s = 0; s < sections.length; s++) {
    const section = sections[s] as LogSection;
    const count = lineCount(section);
    for (let i = 0; i < count; i++) {
      const plain = stripAnsi(lineAt(section, i));
      const hay = caseSensitive ? plain : plain.toLowerCase();
      if (hay.includes(needle)) {
        matches.push({ sectionIndex: s, lineIndex: i, lineNumber: lineNumber + i });
        if (matches.length >= limit) return matches;
      }
    }
    lineNumber += count;
  }
  return matches;
}

/** Character ranges [start, end) of every non-overlapping occurrence of `query` in `text`. */
export function findRanges(text: string, query: string, caseSensitive = false): Array<[number, number]> {
  if (query === '') return [];
  const hay = caseSensitive ? text : text.toLowerCase();
  const needle = caseSensitive ? query : query.toLowerCase();
  const ranges: Array<[number, number]> = [];
  let from = 0;
  for (;;) {
    const at = hay.indexOf(needle, from);
    if (at === -1) break;
    ranges.push([at, at + needle.length]);
    from = at + needle.length;
  }
  return ranges;
}

export interface HighlightedSpan extends AnsiSpan {
  match: boolean;
}

/** Splits styled spans so that the parts covered by `query` are flagged `match`. */
export function highlightSpans(spans: AnsiSpan[], query: string, caseSensitive = false): HighlightedSpan[] {
  const text = spans.map((s) => s.text).join('');
  const ranges = findRanges(text, query, caseSensitive);
  if (ranges.length === 0) return spans.map((s) => ({ ...s, match: false }));
  const out: HighlightedSpan[] = [];
  let pos = 0;
  let r = 0;
  for (const span of spans) {
    const spanEnd = pos + span.text.length;
    let cursor = pos;
    while (cursor < spanEnd) {
      while (r < ranges.length && (ranges[r] as [number, number])[1] <= cursor) r += 1;
      const range = ranges[r];
      if (!range || range[0] >= spanEnd) {
        out.push({ text: span.text.slice(cursor - pos), classes: span.classes, match: false });
        cursor = spanEnd;
      } else if (range[0] > cursor) {
        out.push({ text: span.text.slice(cursor - pos, range[0] - pos), classes: span.classes, match: false });
        cursor = range[0];
      } else {
        const end = Math.min(range[1], spanEnd);
        out.push({ text: span.text.slice(cursor - pos, end - pos), classes: span.classes, match: true });
        cursor = end;
      }
    }
    pos = spanEnd;
  }
  return out;
}
