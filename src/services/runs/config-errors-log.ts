/**
 * The log of a run whose pipeline file was invalid. No step started, so the log store holds
 * nothing for it; the file's problems are what the run has to say, and the whole-run log (API, CLI
 * `ansflow logs`, the run page's log) shows them, each located by file, line, column and field.
 */
import type { Run } from '../../store/runs-repository.js';

/** The text, or null when the run's log is the log store's (it has steps, or its file was valid). */
export function configErrorsLog(run: Pick<Run, 'config_errors' | 'definition' | 'commit' | 'steps'>): string | null {
  const errors = run.config_errors ?? [];
  if (errors.length === 0 || run.steps.length > 0) return null;
  const file = run.definition.config_path ?? 'the pipeline file';
  const at = run.commit ? ` at commit ${run.commit.slice(0, 12)}` : '';
  const lines = [
    `The pipeline file ${file}${at} is invalid; no step was started.`,
    `${errors.length} ${errors.length === 1 ? 'problem' : 'problems'}:`,
    ...errors.map((e) => `  ${e.file}:${e.line}:${e.column}${e.path ? ` ${e.path}` : ''}: ${oneLine(e.message)}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** A message on one line: a YAML parser's message may quote the offending lines. */
const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();

/** A byte range of the text, as the log store answers reads. */
export function readText(text: string, offset: number): { data: Buffer; nextOffset: number } {
  const bytes = Buffer.from(text, 'utf8');
  const from = Math.min(Math.max(0, offset), bytes.length);
  return { data: bytes.subarray(from), nextOffset: bytes.length };
}
