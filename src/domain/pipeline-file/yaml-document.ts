/**
 * A YAML text as data plus a way back from any field path to a line and column, so every problem
 * found later (schema, graph, matrix) points at the place in the file that caused it.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { Segment } from './field-path.js';
import { formatPath } from './field-path.js';
import type { FileProblem } from './types.js';

/** Bigger files are refused before parsing: a pipeline is not a data set. */
export const MAX_FILE_BYTES = 512 * 1024;

export interface Position {
  line: number;
  column: number;
}

export interface LoadedYaml {
  /** The document as plain data; undefined when it could not be read. */
  value: unknown;
  errors: FileProblem[];
  warnings: FileProblem[];
  /** Where a field is: its key when `at` is 'key' (an unknown field), else its value; a missing field: its closest parent. */
  locate(path: readonly Segment[], at?: 'key' | 'value'): Position;
}

export function loadYaml(content: string, file: string): LoadedYaml {
  const lineCounter = new LineCounter();
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const problem = (offset: number, message: string): FileProblem => ({ file, path: '', ...position(offset), message });

  if (Buffer.byteLength(content, 'utf8') > MAX_FILE_BYTES)
    return {
      value: undefined,
      errors: [{ file, path: '', line: 1, column: 1, message: `The file is larger than ${MAX_FILE_BYTES / 1024} KiB.` }],
      warnings: [],
      locate: () => ({ line: 1, column: 1 }),
    };

  // uniqueKeys: a key given twice is an error, not a silent override.
  const doc = parseDocument(content, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const firstLine = (m: string) => m.split('\n')[0]!.trim();
  const errors = doc.errors.map((e) => problem(e.pos[0], `YAML: ${firstLine(e.message)}`));
  const warnings = doc.warnings.map((w) => problem(w.pos[0], `YAML: ${firstLine(w.message)}`));

  const locate = (path: readonly Segment[], at: 'key' | 'value' = 'value'): Position => {
    let node: unknown = doc.contents;
    let best: Node | null = (doc.contents as Node | null) ?? null;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i]!;
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(segment));
        if (!pair) break;
        const last = i === path.length - 1;
        if (last && at === 'key' && isScalar(pair.key)) return rangeStart(pair.key, best);
        node = pair.value;
        best = (pair.value as Node | null) ?? (pair.key as Node);
        // `key:` with nothing after it: the key is the place to point at.
        if (isScalar(pair.value) && pair.value.value === null && isScalar(pair.key)) best = pair.key;
      } else if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
        node = node.items[segment];
        best = node as Node;
      } else break;
    }
    return rangeStart(best, null);
  };
  const rangeStart = (node: Node | null, fallback: Node | null): Position => {
    const range = node?.range ?? fallback?.range;
    return range ? position(range[0]) : { line: 1, column: 1 };
  };

  if (errors.length > 0) return { value: undefined, errors, warnings, locate };
  try {
    // maxAliasCount bounds what anchors and aliases may expand to ("billion laughs").
    return { value: doc.toJS({ maxAliasCount: 100 }), errors, warnings, locate };
  } catch (thrown) {
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    return { value: undefined, errors: [{ file, path: formatPath([]), line: 1, column: 1, message: `YAML: ${message}` }], warnings, locate };
  }
}
