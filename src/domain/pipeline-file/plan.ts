/**
 * Turns the files read (all schema-valid) into the plan a run executes: steps of every file in
 * order (includes first), `run:` spelled out, plan-time `when` decided, matrix cells expanded,
 * `needs` renamed to the expanded steps, and the result checked with the same validator as a
 * pipeline saved in AnsFlow. Every problem is traced back to the file and field that caused it.
 *
 * A step that `when` leaves out vanishes from the plan; steps that needed it wait instead for what
 * it needed, so the order the file describes still holds.
 */
import type { LeftOutStep, PlanConditions, StepDefinition } from '../pipeline.js';
import type { GitUrlPolicy } from '../git-url.js';
import { validateSteps } from '../validate-steps.js';
import { stepGraphIssues, usesNeeds } from '../step-graph.js';
import { variableNameProblem, variableValueProblem } from '../variables.js';
import { formatPath, parsePath, type Segment } from './field-path.js';
import { cellName, expandMatrix, type Cell } from './matrix.js';
import { pathGlobProblem } from './path-glob.js';
import type { SourceFile, LoadedFiles } from './includes.js';
import type { FileStep } from './schema.js';
import type { FileProblem, PlanContext } from './types.js';
import { whyExcluded } from './when.js';

/** Matrix cells can make a plan much longer than a pipeline saved in AnsFlow (100 steps). */
export const MAX_PLAN_STEPS = 10_000;
const MAX_STEP_NAME = 200;

interface Located {
  step: FileStep;
  file: SourceFile;
  index: number;
}

/** A planned step and where it came from. */
interface Planned {
  definition: StepDefinition;
  from: Located;
  cell: Cell | null;
}

export interface Plan {
  steps: StepDefinition[];
  /** Plan-time `when` of the planned steps that have one, by planned step name (matrix cells too). */
  conditions: Record<string, PlanConditions>;
  /** Steps `when` left out for this event (only with a context), and why. */
  leftOut: LeftOutStep[];
  variables: Record<string, string>;
  skipped: null | { reason: string };
  errors: FileProblem[];
  warnings: FileProblem[];
}

export function planFiles(loaded: LoadedFiles, context: PlanContext | undefined, policy: GitUrlPolicy): Plan {
  const errors: FileProblem[] = [];
  const warnings: FileProblem[] = [];
  const at = (file: SourceFile, segments: Segment[], message: string, where: 'key' | 'value' = 'value'): FileProblem => ({
    file: file.label,
    path: formatPath(segments),
    ...file.yaml.locate(segments, where),
    message,
  });
  const top = loaded.files[loaded.files.length - 1]!;

  const variables: Record<string, string> = {};
  for (const file of loaded.files)
    for (const [name, value] of Object.entries(file.data.variables ?? {})) {
      const problem = variableNameProblem(name) ?? variableValueProblem(String(value));
      if (problem) errors.push(at(file, ['variables', name], `${problem}.`, 'key'));
      else variables[name] = String(value);
    }

  const steps: Located[] = loaded.files.flatMap((file) => (file.data.steps ?? []).map((step, index) => ({ step, file, index })));
  /** A matrix step's cells and their names (computed once: a plan may hold thousands). */
  const cellsOf = new Map<Located, { cells: Cell[]; names: string[] } | null>();
  const byName = new Map<string, Located>();
  for (const located of steps) {
    const { step, file, index } = located;
    const here = (segments: Segment[], message: string, where: 'key' | 'value' = 'value') =>
      errors.push(at(file, ['steps', index, ...segments], message, where));
    const lowered = step.name.trim().toLowerCase();
    const other = byName.get(lowered);
    if (other) here(['name'], `Another step is already named "${other.step.name}"${other.file === file ? '' : ` (in ${other.file.label})`}.`);
    else byName.set(lowered, located);

    if (step.run !== undefined && step.type !== undefined && step.type !== 'shell_command')
      here(['run'], `"run" is short for a shell_command step; this step's type is "${step.type}".`, 'key');
    if (step.run !== undefined && step.config?.command !== undefined)
      here(['config', 'command'], 'Give the command once: in "run" or in config.command.', 'key');
    if (step.run === undefined && step.type === undefined) here(['type'], 'A step needs "run" (a shell command) or "type" (and its "config").');
    for (const field of ['paths', 'paths_ignore'] as const) {
      const globs = step.when?.[field];
      (Array.isArray(globs) ? globs : globs === undefined ? [] : [globs]).forEach((glob, j) => {
        const problem = pathGlobProblem(glob);
        if (problem) here(['when', field, ...(Array.isArray(globs) ? [j] : [])], problem);
      });
    }
    if (step.matrix) {
      const { cells, problems } = expandMatrix(step.matrix);
      for (const p of problems) here(p.segments, p.message, p.at);
      const names = cells.map((c) => cellName(step.name, c));
      const long = names.find((n) => n.length > MAX_STEP_NAME);
      if (long) here(['matrix'], `A cell's name would be longer than ${MAX_STEP_NAME} characters: ${long.slice(0, 60)}….`, 'key');
      for (const cell of cells)
        for (const [axis, value] of Object.entries(cell)) {
          const problem = variableValueProblem(value);
          if (problem) here(['matrix', axis], `${problem}.`, 'key');
        }
      cellsOf.set(located, problems.length > 0 ? { cells: [], names: [] } : { cells, names });
    } else cellsOf.set(located, null);
  }
  for (const field of ['paths', 'paths_ignore'] as const) {
    const globs = top.data.when?.[field];
    (Array.isArray(globs) ? globs : globs === undefined ? [] : [globs]).forEach((glob, j) => {
      const problem = pathGlobProblem(glob);
      if (problem) errors.push(at(top, ['when', field, ...(Array.isArray(globs) ? [j] : [])], problem));
    });
  }

  const nodes = steps.map((s) => ({ name: s.step.name, needs: s.step.needs, parallel_group: s.step.parallel_group }));
  for (const issue of stepGraphIssues(nodes)) {
    const s = steps[issue.index]!;
    const problem = at(s.file, ['steps', s.index, ...parsePath(issue.field)], issue.message);
    if (issue.unknownNeed && loaded.unresolved)
      warnings.push({ ...problem, message: `${issue.message.slice(0, -1)}, unless an include that was not read has it.` });
    else errors.push(problem);
  }
  if (steps.length === 0 && !loaded.unresolved)
    errors.push(at(top, ['steps'], 'The pipeline has no steps: add "steps:" or include a file that has some.', 'key'));

  const skippedReason = context ? whyExcluded(top.data.when, context) : null;
  const skipped = skippedReason === null ? null : { reason: skippedReason };
  if (errors.length > 0 || skipped) return { steps: [], conditions: {}, leftOut: [], variables, skipped, errors, warnings };

  const graph = usesNeeds(nodes);
  const leftOut: LeftOutStep[] = [];
  const kept = steps.filter((s) => {
    const reason = context ? whyExcluded(s.step.when, context) : null;
    if (reason !== null) leftOut.push({ name: s.step.name, reason, needs: [...(s.step.needs ?? [])], when: planConditions(s.step.when) ?? {} });
    return reason === null;
  });
  const keptSet = new Set(kept);
  const byExactName = new Map(steps.map((s) => [s.step.name, s]));
  const namesOf = (s: Located) => cellsOf.get(s)?.names ?? [s.step.name];
  // What a step waits for in the plan: the kept steps it names (all their cells), and for a step left out, what that one waited for.
  const resolved = new Map<Located, string[]>();
  const needsOf = (s: Located): string[] => {
    const known = resolved.get(s);
    if (known) return known;
    const out = new Set<string>();
    for (const need of s.step.needs ?? []) {
      const target = byExactName.get(need);
      if (!target) continue; // unknown (only possible when an include was not read): a warning already says so
      for (const name of keptSet.has(target) ? namesOf(target) : needsOf(target)) out.add(name);
    }
    resolved.set(s, [...out]);
    return [...out];
  };

  // The step catalogue checks one step per file step (its first cell): the cells of a matrix differ
  // only in name and variables, which were checked above, and share their config, so validating
  // 256 copies would find the same problems 256 times.
  const bases: Planned[] = kept.map((s) => {
    const first = cellsOf.get(s);
    const cell = first ? first.cells[0]! : null;
    return { definition: toDefinition(s.step, cell, first ? first.names[0]! : s.step.name, graph ? needsOf(s) : null), from: s, cell };
  });
  const total = kept.reduce((n, s) => n + (cellsOf.get(s)?.cells.length ?? 1), 0);
  if (total > MAX_PLAN_STEPS) {
    errors.push(at(top, ['steps'], `The plan has ${total} steps (matrix cells included); at most ${MAX_PLAN_STEPS} are allowed.`, 'key'));
    return { steps: [], conditions: {}, leftOut: [], variables, skipped, errors, warnings };
  }

  const seen = new Set<string>();
  for (const [field, messages] of Object.entries(
    validateSteps(
      bases.map((b) => b.definition),
      policy,
      { maxSteps: MAX_PLAN_STEPS, checkGraph: false },
    ),
  )) {
    const [first, index, ...rest] = parsePath(field);
    const origin = first === 'steps' && typeof index === 'number' ? bases[index] : undefined;
    for (const message of messages) {
      // A variable's name is the problem when the field is the variable itself: point at the name.
      const where = (rest[0] === 'env' || rest[0] === 'matrix') && rest.length === 2 ? 'key' : 'value';
      const problem = origin
        ? at(origin.from.file, ['steps', origin.from.index, ...fileField(origin, rest)], message, where)
        : at(top, ['steps'], message, 'key');
      const key = `${problem.file}\0${problem.path}\0${message}`;
      if (!seen.has(key)) errors.push(problem);
      seen.add(key);
    }
  }
  if (errors.length > 0) return { steps: [], conditions: {}, leftOut: [], variables, skipped, errors, warnings };

  // The cells: the checked first cell's definition with each cell's name and variables. Cells of one
  // step share config, needs and runs_on objects: the plan is read, never changed in place.
  const definitions: StepDefinition[] = [];
  const conditions: Record<string, PlanConditions> = {};
  const names = new Map<string, Located>();
  for (const base of bases) {
    const when = planConditions(base.from.step.when);
    const matrix = cellsOf.get(base.from);
    const stepEnv = base.from.step.env ? Object.fromEntries(Object.entries(base.from.step.env).map(([k, v]) => [k, String(v)])) : {};
    const cells = matrix ? matrix.cells.map((cell, i) => ({ ...base.definition, name: matrix.names[i]!, env: { ...stepEnv, ...cell } })) : [base.definition];
    for (const definition of cells) {
      const lowered = definition.name.toLowerCase();
      const other = names.get(lowered);
      if (other && other !== base.from)
        errors.push(at(base.from.file, ['steps', base.from.index, 'name'], `A matrix cell and a step would both be named "${definition.name}".`));
      names.set(lowered, base.from);
      definitions.push(definition);
      if (when) conditions[definition.name] = when;
    }
  }
  if (errors.length > 0) return { steps: [], conditions: {}, leftOut: [], variables, skipped, errors, warnings };
  return { steps: definitions, conditions, leftOut, variables, skipped, errors, warnings };
}

/** A step's plan-time `when`, every condition as a list; null when it has none. */
function planConditions(when: FileStep['when']): PlanConditions | null {
  if (!when) return null;
  const out: PlanConditions = {};
  for (const key of ['branch', 'event', 'paths', 'paths_ignore'] as const) {
    const value = when[key];
    if (value !== undefined) out[key] = (Array.isArray(value) ? value : [value]).map(String);
  }
  return Object.keys(out).length > 0 ? out : null;
}

/** The field of the file step behind a field of a planned step (`config.command` of a `run:` step is `run`). */
function fileField({ from, cell }: Planned, rest: Segment[]): Segment[] {
  if (from.step.run !== undefined && rest[0] === 'config' && rest[1] === 'command') return ['run'];
  if (rest[0] === 'env' && cell && typeof rest[1] === 'string' && rest[1] in cell && !(rest[1] in (from.step.env ?? {}))) return ['matrix', rest[1]];
  return rest;
}

function toDefinition(step: FileStep, cell: Cell | null, name: string, needs: string[] | null): StepDefinition {
  const config: Record<string, unknown> = structuredClone(step.config ?? {});
  if (step.run !== undefined) config.command = step.run;
  const out: StepDefinition = { name, type: step.run !== undefined ? 'shell_command' : step.type!, config };
  if (step.timeout_seconds !== undefined) out.timeout_seconds = step.timeout_seconds;
  if (step.retries !== undefined) out.retries = step.retries;
  if (step.continue_on_error !== undefined) out.continue_on_error = step.continue_on_error;
  // In stage form, a matrix's cells are one stage: they run side by side.
  const group = step.parallel_group ?? (cell ? step.name : undefined);
  if (needs === null && group !== undefined) out.parallel_group = group;
  // In graph form every step says what it waits for (an empty list: nothing), so the plan stays a
  // graph. The cells of one step share one list (256 cells needing 256 cells are 65,536 names): read it, never change it.
  if (needs !== null) out.needs = needs;
  if (step.when?.status !== undefined) out.when = { status: step.when.status };
  const env = { ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, String(v)])), ...(cell ?? {}) };
  if (Object.keys(env).length > 0) out.env = env;
  if (step.runs_on !== undefined) out.runs_on = [...step.runs_on];
  if (step.credential !== undefined) out.credential = step.credential;
  if (step.environment !== undefined) out.environment = step.environment;
  if (step.network !== undefined) out.network = step.network;
  if (step.limits !== undefined) out.limits = { ...step.limits };
  if (step.artifacts !== undefined) out.artifacts = structuredClone(step.artifacts);
  if (step.cache !== undefined) out.cache = structuredClone(step.cache);
  if (step.from !== undefined) out.from = { ...step.from };
  return out;
}
