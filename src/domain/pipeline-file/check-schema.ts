/**
 * Checks a file's data against the pipeline file's JSON Schema and turns each Ajv error into one
 * readable problem on the field it is about. A union (`branch: main` or a list) that fails is
 * reported once: through the alternative of the same kind as the value when there is one (a
 * mapping checked as a mapping says which field is unknown), else as "must be one of these forms".
 */
import { Ajv, type ErrorObject } from 'ajv';
import { pipelineFileJsonSchema } from './json-schema.js';
import { formatPath, pointerToSegments, type Segment } from './field-path.js';

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validate = ajv.compile(pipelineFileJsonSchema());

export interface SchemaProblem {
  segments: Segment[];
  /** Point at the key rather than the value (an unknown field). */
  at: 'key' | 'value';
  message: string;
}

export function checkSchema(value: unknown): SchemaProblem[] {
  if (validate(value)) return [];
  const errors = collapseUnions(validate.errors ?? [], value);
  const seen = new Set<string>();
  const out: SchemaProblem[] = [];
  for (const error of errors) {
    const problem = toProblem(error, value);
    const key = `${formatPath(problem.segments)}\0${problem.message}`;
    if (!seen.has(key)) out.push(problem);
    seen.add(key);
  }
  return out;
}

function toProblem(error: ErrorObject, value: unknown): SchemaProblem {
  const segments = pointerToSegments(error.instancePath, value);
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { segments: [...segments, String(p.missingProperty)], at: 'value', message: `"${String(p.missingProperty)}" is required.` };
    case 'additionalProperties':
      return { segments: [...segments, String(p.additionalProperty)], at: 'key', message: `Unknown field "${String(p.additionalProperty)}".` };
    case 'type':
      return { segments, at: 'value', message: `Must be ${describe({ type: p.type })}.` };
    case 'anyOf':
      return { segments, at: 'value', message: `Must be ${describeUnion(error.parentSchema?.anyOf as Record<string, unknown>[])}.` };
    default:
      return { segments, at: 'value', message: `${capitalize(error.message ?? 'invalid value')}.` };
  }
}

/** Keeps, for each failed union, only the errors of the alternative that matches the value's kind. */
function collapseUnions(errors: ErrorObject[], value: unknown): ErrorObject[] {
  const dropped = new Set<ErrorObject>();
  const unions = errors.filter((e) => e.keyword === 'anyOf').sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const union of unions) {
    if (dropped.has(union)) continue;
    const inside = errors.filter((e) => e !== union && e.schemaPath.startsWith(`${union.schemaPath}/`));
    const kind = kindOf(valueAt(value, union.instancePath));
    const branches = (union.parentSchema?.anyOf ?? []) as Record<string, unknown>[];
    const sameKind = branches.map((b, i) => ({ b, i })).filter(({ b }) => b.type === kind || (kind === 'integer' && b.type === 'number'));
    if (sameKind.length === 1 && kind !== 'string' && kind !== 'number' && kind !== 'integer' && kind !== 'boolean') {
      const prefix = `${union.schemaPath}/${sameKind[0]!.i}/`;
      dropped.add(union);
      for (const e of inside) if (!e.schemaPath.startsWith(prefix)) dropped.add(e);
    } else for (const e of inside) dropped.add(e);
  }
  return errors.filter((e) => !dropped.has(e));
}

function valueAt(value: unknown, pointer: string): unknown {
  let at = value;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined;
  }
  return at;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** `a string, or a list of strings`; `one of "push", "tag", or a list of those` when the list repeats the first form. */
function describeUnion(branches: Record<string, unknown>[]): string {
  if (branches.every((b) => 'const' in b)) return describe({ anyOf: branches });
  return branches
    .map((b, i) => {
      const previous = branches[i - 1];
      if (b.type === 'array' && previous && JSON.stringify(b.items) === JSON.stringify(previous) && 'anyOf' in previous) return 'a list of those';
      return describe(b);
    })
    .join(', or ');
}

/** A schema in words: `a string`, `a list`, `a mapping`, `"push"`. */
function describe(schema: Record<string, unknown>): string {
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.anyOf)) {
    const branches = schema.anyOf as Record<string, unknown>[];
    if (branches.every((b) => 'const' in b)) return `one of ${branches.map(describe).join(', ')}`;
    return branches.map(describe).join(', or ');
  }
  const type = Array.isArray(schema.type) ? schema.type.join(' or ') : String(schema.type);
  const words: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    integer: 'a whole number',
    boolean: 'true or false',
    array: 'a list',
    object: 'a mapping',
    null: 'empty',
  };
  if (type === 'array' && schema.items && typeof schema.items === 'object') return `a list of ${plural(describe(schema.items as Record<string, unknown>))}`;
  return words[type] ?? type;
}

const plural = (phrase: string) => phrase.replace(/^an? (\w+)/, '$1s').replace(/^(".*")$/, '$1');
const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
