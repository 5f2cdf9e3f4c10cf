/**
 * The log line model: a run's log as sections (one per step, plus an optional preamble), each a
 * growing list of lines. Text is appended in arbitrary chunks; complete lines are stored once and
 * never copied again, so a 200,000-line log costs one array of strings. The view asks for rows by
 * index through a RowIndex (section headers + the lines of unfolded sections), which is cheap to
 * rebuild because it only stores one number per section.
 *
 * Pure TypeScript (no DOM, no React): mutated in place by its owner, who bumps a version to render.
 */

export interface LogSection {
  /** Stable key: `step-<id>` or `preamble`. */
  key: string;
  stepId: number | null;
  title: string;
  /** Complete lines, carriage returns already collapsed. */
  lines: string[];
  /** Text after the last newline (a line still being written); '' when none. */
  partial: string;
}

export function createSection(key: string, stepId: number | null, title: string): LogSection {
  return { key, stepId, title, lines: [], partial: '' };
}

/**
 * A terminal overwrites a line on a bare carriage return (progress bars); keep what it would show.
 * A trailing \r (from \r\n) is dropped.
 */
export function collapseCarriageReturns(line: string): string {
  if (line.indexOf('\r') === -1) return line;
  const trimmed = line.replace(/\r+$/, '');
  const last = trimmed.lastIndexOf('\r');
  return last === -1 ? trimmed : trimmed.slice(last + 1);
}

/** Appends text to a section; returns how many complete lines were added. */
export function appendText(section: LogSection, text: string): number {
  if (text === '') return 0;
  const combined = section.partial + text;
  const parts = combined.split('\n');
  section.partial = parts.pop() ?? '';
  for (const part of parts) section.lines.push(collapseCarriageReturns(part));
  return parts.length;
}

/** Splits a whole text into display lines (a trailing newline does not make an empty last line). */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.map(collapseCarriageReturns);
}

/** Number of displayable lines, counting a pending partial line. */
export function lineCount(section: LogSection): number {
  return section.lines.length + (section.partial === '' ? 0 : 1);
}

/** The i-th displayable line of a section (the partial line last). */
export function lineAt(section: LogSection, index: number): string {
  if (index < section.lines.length) return section.lines[index] ?? '';
  return collapseCarriageReturns(section.partial);
}

export type LogRow =
  | { kind: 'header'; sectionIndex: number; section: LogSection; folded: boolean; lineCount: number }
  | { kind: 'line'; sectionIndex: number; section: LogSection; lineIndex: number; lineNumber: number; text: string };

export interface RowIndex {
  sections: LogSection[];
  /** Row index where each section starts (its header row, or its first line when headers are off). */
  rowStarts: number[];
  /** Global 1-based number of each section's first line (numbering ignores folding). */
  lineStarts: number[];
  folded: ReadonlySet<string>;
  withHeaders: boolean;
  totalRows: number;
  totalLines: number;
}

/**
 * Builds the row index. Headers are shown when there is more than one section or the only one has
 * a step; folded sections contribute their header only.
 */
export function buildRowIndex(sections: LogSection[], folded: ReadonlySet<string>): RowIndex {
  const withHeaders = sections.length > 1 || (sections.length === 1 && sections[0]?.stepId !== null);
  const rowStarts: number[] = [];
  const lineStarts: number[] = [];
  let rows = 0;
  let lines = 0;
  for (const section of sections) {
    rowStarts.push(rows);
    lineStarts.push(lines + 1);
    const count = lineCount(section);
    const isFolded = withHeaders && folded.has(section.key);
    rows += (withHeaders ? 1 : 0) + (isFolded ? 0 : count);
    lines += count;
  }
  return { sections, rowStarts, lineStarts, folded, withHeaders, totalRows: rows, totalLines: lines };
}

function sectionForRow(index: RowIndex, row: number): number {
  let lo = 0;
  let hi = index.rowStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((index.rowStarts[mid] ?? 0) <= row) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The row at a position, or null when out of range. */
export function rowAt(index: RowIndex, row: number): LogRow | null {
  if (row < 0 || row >= index.totalRows) return null;
  const sectionIndex = sectionForRow(index, row);
  const section = index.sections[sectionIndex];
  if (!section) return null;
  let offset = row - (index.rowStarts[sectionIndex] ?? 0);
  if (index.withHeaders) {
    if (offset === 0) {
      return { kind: 'header', sectionIndex, section, folded: index.folded.has(section.key), lineCount: lineCount(section) };
    }
    offset -= 1;
  }
  return {
    kind: 'line',
    sectionIndex,
    section,
    lineIndex: offset,
    lineNumber: (index.lineStarts[sectionIndex] ?? 1) + offset,
    text: lineAt(section, offset),
  };
}

/** Where a global line number lives: its section and index inside it, or null. */
export function locateLine(index: RowIndex, lineNumber: number): { sectionIndex: number; lineIndex: number } | null {
  if (lineNumber < 1 || lineNumber > index.totalLines) return null;
  for (let s = index.sections.length - 1; s >= 0; s--) {
    const start = index.lineStarts[s] ?? 1;
    if (lineNumber >= start) {
      const section = index.sections[s] as LogSection;
      const lineIndex = lineNumber - start;
      if (lineIndex < lineCount(section)) return { sectionIndex: s, lineIndex };
      return null;
    }
  }
  return null;
}

/** The row showing a global line number, or null when it is folded away or out of range. */
export function rowOfLine(index: RowIndex, lineNumber: number): number | null {
  const loc = locateLine(index, lineNumber);
  if (!loc) return null;
  const section = index.sections[loc.sectionIndex] as LogSection;
  if (index.withHeaders && index.folded.has(section.key)) return null;
  return (index.rowStarts[loc.sectionIndex] ?? 0) + (index.withHeaders ? 1 : 0) + loc.lineIndex;
}

/** The whole log as text, as it would be downloaded: one `==> title` header per section. */
export function documentToText(sections: LogSection[]): string {
  const out: string[] = [];
  for (const section of sections) {
    if (section.key !== 'preamble') out.push(`==> ${section.title}`);
    for (const line of section.lines) out.push(line);
    if (section.partial !== '') out.push(collapseCarriageReturns(section.partial));
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
