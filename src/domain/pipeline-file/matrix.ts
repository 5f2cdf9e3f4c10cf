/**
 * Expands a step's `matrix:` into cells. Axes (every key but include/exclude) combine in the
 * order written, the first axis varying slowest; `exclude` removes every cell whose values match
 * all those an entry gives; `include` then adds exact combinations (one equal to a cell already
 * there adds nothing). Values are text, as variables are.
 */
import { variableNameProblem } from '../variables.js';
import { MAX_MATRIX_CELLS, type Matrix } from './schema.js';
import type { Segment } from './field-path.js';

export type Cell = Record<string, string>;

export interface MatrixProblem {
  /** Relative to the step. */
  segments: Segment[];
  at: 'key' | 'value';
  message: string;
}

/** Above this the combinations are not even listed (an exclude list cannot bring them back under the limit sensibly). */
const MAX_COMBINATIONS = MAX_MATRIX_CELLS * 64;

const text = (v: string | number | boolean) => String(v);

export function expandMatrix(matrix: Matrix): { cells: Cell[]; problems: MatrixProblem[] } {
  const problems: MatrixProblem[] = [];
  const { include = [], exclude = [], ...rest } = matrix;
  const axes = Object.entries(rest as Record<string, (string | number | boolean)[]>).map(([name, values]) => ({ name, values: values.map(text) }));

  for (const axis of axes) {
    const problem = variableNameProblem(axis.name);
    if (problem) problems.push({ segments: ['matrix', axis.name], at: 'key', message: `${problem}.` });
    axis.values.forEach((v, j) => {
      if (axis.values.indexOf(v) !== j) problems.push({ segments: ['matrix', axis.name, j], at: 'value', message: `"${v}" is listed twice.` });
    });
  }
  include.forEach((entry, j) => {
    for (const name of Object.keys(entry)) {
      const problem = variableNameProblem(name);
      if (problem) problems.push({ segments: ['matrix', 'include', j, name], at: 'key', message: `${problem}.` });
    }
  });
  const axisNames = new Set(axes.map((a) => a.name));
  exclude.forEach((entry, j) => {
    for (const name of Object.keys(entry))
      if (!axisNames.has(name)) problems.push({ segments: ['matrix', 'exclude', j, name], at: 'key', message: `"${name}" is not an axis of this matrix.` });
  });
  if (problems.length > 0) return { cells: [], problems };

  const combinations = axes.length === 0 ? 0 : axes.reduce((n, a) => n * a.values.length, 1);
  if (combinations > MAX_COMBINATIONS)
    return {
      cells: [],
      problems: [
        { segments: ['matrix'], at: 'key', message: `The axes make ${combinations} combinations; a matrix may have at most ${MAX_MATRIX_CELLS} cells.` },
      ],
    };

  let cells: Cell[] = axes.length === 0 ? [] : [{}];
  for (const axis of axes) cells = cells.flatMap((cell) => axis.values.map((v) => ({ ...cell, [axis.name]: v })));
  const excluded = exclude.map((e) => Object.entries(e).map(([k, v]) => [k, text(v)] as const));
  cells = cells.filter((cell) => !excluded.some((entry) => entry.every(([k, v]) => cell[k] === v)));
  const keyOf = (cell: Cell) => JSON.stringify(Object.entries(cell).sort(([a], [b]) => (a < b ? -1 : 1)));
  const known = new Set(include.length > 0 ? cells.map(keyOf) : []);
  for (const entry of include) {
    const cell = Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, text(v)]));
    if (!known.has(keyOf(cell))) cells.push(cell);
    known.add(keyOf(cell));
  }

  if (cells.length > MAX_MATRIX_CELLS)
    return {
      cells: [],
      problems: [{ segments: ['matrix'], at: 'key', message: `The matrix has ${cells.length} cells; at most ${MAX_MATRIX_CELLS} are allowed.` }],
    };
  if (cells.length === 0) return { cells: [], problems: [{ segments: ['matrix'], at: 'key', message: 'The matrix has no cells left.' }] };
  return { cells, problems: [] };
}

/** `build (NODE=22, OS=debian)`: the step's name and the cell's values in the order they were written. */
export const cellName = (step: string, cell: Cell) =>
  `${step} (${Object.entries(cell)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')})`;
