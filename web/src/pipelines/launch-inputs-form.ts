/**
 * The run dialog's launch inputs: a form value per declared input (its default, or empty), and the
 * request's `inputs` with the client-side checks the API repeats (required, number). Errors are
 * keyed as the API keys them (`inputs.region`), so both show beside the same field.
 *
 * Pure TypeScript (no DOM, no React).
 */
import type { LaunchInput } from '../api/types';

/** What a field holds: text (string, choice, number) or a checkbox (boolean). */
export type InputValues = Record<string, string | boolean>;

export function initialInputValues(inputs: readonly LaunchInput[]): InputValues {
  const values: InputValues = {};
  for (const input of inputs) {
    if (input.type === 'boolean') values[input.name] = input.default === true;
    else if (input.default !== undefined) values[input.name] = String(input.default);
    else values[input.name] = input.type === 'choice' && input.required ? (input.options?.[0] ?? '') : '';
  }
  return values;
}

/** The request's `inputs` (only what has a value: an empty field takes the input's default) and the problems found. */
export function inputsPayload(
  inputs: readonly LaunchInput[],
  values: InputValues,
): { inputs: Record<string, string | number | boolean>; errors: Record<string, string[]> } {
  const out: Record<string, string | number | boolean> = {};
  const errors: Record<string, string[]> = {};
  for (const input of inputs) {
    const field = `inputs.${input.name}`;
    const value = values[input.name];
    if (input.type === 'boolean') {
      out[input.name] = value === true;
      continue;
    }
    const text = typeof value === 'string' ? value : '';
    if (text.trim() === '') {
      if (input.required && input.default === undefined) errors[field] = ['This input is required.'];
      continue;
    }
    if (input.type === 'number') {
      const n = Number(text.trim());
      if (!Number.isFinite(n)) errors[field] = ['Must be a number.'];
      else out[input.name] = n;
      continue;
    }
    out[input.name] = text;
  }
  return { inputs: out, errors };
}
