/**
 * Lint errors (1-based line and column, as the API gives them) → CodeMirror diagnostics (document
 * offsets). The range covers the word at the column, so the underline sits on the key or value
 * named; a place past the end of its line, or no place, marks the whole line (line 1 without one).
 */
import type { Text } from '@codemirror/state';
import type { PipelineFileError } from '../api/types';

export interface EditorDiagnostic {
  from: number;
  to: number;
  severity: 'error' | 'warning';
  message: string;
}

export function diagnosticMessage(e: PipelineFileError): string {
  return e.path ? `${e.path}: ${e.message}` : e.message;
}

export function toDiagnostics(errors: PipelineFileError[], doc: Text, severity: EditorDiagnostic['severity'] = 'error'): EditorDiagnostic[] {
  return errors.map((e) => {
    const lineNo = Math.min(Math.max(1, e.line ?? 1), doc.lines);
    const line = doc.line(lineNo);
    const message = diagnosticMessage(e);
    const column = e.line ? (e.column ?? 1) : 1;
    const start = line.from + Math.max(0, column - 1);
    if (!e.line || start >= line.to) return { from: line.from, to: line.to, severity, message };
    // to the end of the word (a key, a value, a list item), so the mark is visible but no wider
    const rest = line.text.slice(start - line.from);
    const word = /^[^\s:,[\]{}#]+/.exec(rest)?.[0].length ?? 0;
    return { from: start, to: start + Math.max(1, word), severity, message };
  });
}
