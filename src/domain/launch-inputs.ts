/**
 * Launch inputs: typed parameters a pipeline declares for a manual run (Jenkins parameters,
 * GitHub's workflow_dispatch inputs). The declaration is checked when the pipeline is saved; the
 * values when a run is started, each problem keyed by its field (`inputs.environment`), and the
 * result becomes the run's variables (text, as every variable is).
 */
import { MAX_VARIABLE_VALUE_LENGTH, variableNameProblem } from './variables.js';

export const INPUT_TYPES = ['string', 'choice', 'boolean', 'number'] as const;
export type InputType = (typeof INPUT_TYPES)[number];
export const MAX_INPUTS = 50;
const MAX_OPTIONS = 100;

export interface InputDeclaration {
  name: string;
  type: InputType;
  description?: string;
  required?: boolean;
  default?: string | number | boolean;
  /** For `choice`: the allowed values. */
  options?: string[];
}

export type FieldProblems = Record<string, string[]>;

const add = (problems: FieldProblems, field: string, message: string) => {
  (problems[field] ??= []).push(message);
};

/** The declaration's problems, keyed `inputs[3].options`; empty when it is fine. */
export function inputDeclarationProblems(inputs: readonly InputDeclaration[]): FieldProblems {
  const problems: FieldProblems = {};
  if (inputs.length > MAX_INPUTS) add(problems, 'inputs', `At most ${MAX_INPUTS} inputs.`);
  const seen = new Set<string>();
  inputs.forEach((input, i) => {
    const at = `inputs[${i}]`;
    const nameProblem = variableNameProblem(input.name);
    if (nameProblem) add(problems, `${at}.name`, nameProblem);
    if (seen.has(input.name)) add(problems, `${at}.name`, `Input "${input.name}" is declared twice.`);
    seen.add(input.name);
    if (!(INPUT_TYPES as readonly string[]).includes(input.type))
      add(problems, `${at}.type`, `Unknown type "${input.type}" (one of ${INPUT_TYPES.join(', ')}).`);
    if (input.type === 'choice') {
      const options = input.options ?? [];
      if (options.length === 0) add(problems, `${at}.options`, 'A choice needs at least one option.');
      if (options.length > MAX_OPTIONS) add(problems, `${at}.options`, `At most ${MAX_OPTIONS} options.`);
      if (new Set(options).size !== options.length) add(problems, `${at}.options`, 'Options must be different from each other.');
    } else if (input.options !== undefined) add(problems, `${at}.options`, 'Only a choice has options.');
    if (input.default !== undefined) {
      const problem = valueProblem(input, input.default);
      if (problem) add(problems, `${at}.default`, problem);
    }
  });
  return problems;
}

/**
 * A value given as text where a boolean or number is declared (a command line's `--input
 * DRY_RUN=false`, a form field, a run variable) is read as that type; other text stays text, so
 * it is still refused as the wrong type.
 */
function fromText(input: InputDeclaration, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (input.type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  if (input.type === 'number' && /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim())) return Number(value.trim());
  return value;
}

/** Why the value does not fit the input, or null. */
function valueProblem(input: InputDeclaration, value: unknown): string | null {
  switch (input.type) {
    case 'string':
      if (typeof value !== 'string') return 'Must be text.';
      return value.length > MAX_VARIABLE_VALUE_LENGTH ? `At most ${MAX_VARIABLE_VALUE_LENGTH} characters.` : null;
    case 'choice':
      if (typeof value !== 'string') return 'Must be one of the options.';
      return (input.options ?? []).includes(value) ? null : `"${value.slice(0, 100)}" is not one of: ${(input.options ?? []).join(', ')}.`;
    case 'boolean':
      return typeof value === 'boolean' ? null : 'Must be true or false.';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? null : 'Must be a number.';
    default:
      return 'Unknown input type.';
  }
}

/**
 * The run's variables from the values given at launch: every declared input gets its value or its
 * default; unknown names, missing required inputs and wrong types are problems keyed `inputs.<name>`.
 */
export function resolveInputs(
  declared: readonly InputDeclaration[],
  given: Record<string, unknown> | undefined,
  options: { fieldOf?: (name: string) => string } = {},
): { variables: Record<string, string>; problems: FieldProblems } {
  const problems: FieldProblems = {};
  const variables: Record<string, string> = {};
  const values = given ?? {};
  const fieldOf = options.fieldOf ?? ((name: string) => `inputs.${name}`);
  for (const name of Object.keys(values)) {
    if (!declared.some((d) => d.name === name)) add(problems, fieldOf(name), 'This pipeline has no such input.');
  }
  for (const input of declared) {
    const field = fieldOf(input.name);
    const value = Object.prototype.hasOwnProperty.call(values, input.name) ? fromText(input, values[input.name]) : input.default;
    if (value === undefined || value === null || value === '') {
      if (input.required) add(problems, field, 'This input is required.');
      else variables[input.name] = '';
      continue;
    }
    const problem = valueProblem(input, value);
    if (problem) add(problems, field, problem);
    else variables[input.name] = String(value);
  }
  return { variables, problems };
}
