/**
 * Form logic generated from a step type's JSON Schema (`config_schema`): which inputs to show, their
 * initial values (existing config, else schema defaults), turning the inputs back into a config
 * object (integer/number/boolean coercion, string maps, lists, free JSON), client-side required and
 * range checks, and mapping API validation error paths (`steps[1].config.repository`) to fields.
 *
 * Pure TypeScript (no DOM, no React): the SchemaForm component renders what this module decides.
 */

export type JsonSchema = Record<string, unknown>;

export type FieldKind =
  | 'text'
  | 'textarea'
  | 'select'
  | 'integer'
  | 'number'
  | 'boolean'
  /** an object whose values are strings (`additionalProperties: {type: string}`): key/value rows */
  | 'string-map'
  /** an array of strings: one item per line */
  | 'string-list'
  /** any other object or array: edited as JSON */
  | 'json';

export interface SchemaField {
  name: string;
  kind: FieldKind;
  label: string;
  description: string | null;
  required: boolean;
  defaultValue: unknown;
  options: string[] | null;
  minimum: number | null;
  maximum: number | null;
  pattern: string | null;
  placeholder: string | null;
}

export interface MapRow {
  key: string;
  value: string;
}

/** What an input holds: text for most kinds, a flag for booleans, rows for string maps. */
export type FieldValue = string | boolean | MapRow[];
export type FormValues = Record<string, FieldValue>;
export type FieldErrors = Record<string, string[]>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function schemaType(prop: JsonSchema): string | null {
  const t = prop.type;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return (t.find((x) => x !== 'null') as string | undefined) ?? null;
  return null;
}

function kindOf(prop: JsonSchema): FieldKind {
  const type = schemaType(prop);
  if (Array.isArray(prop.enum) && prop.enum.length > 0 && type !== 'array' && type !== 'object') return 'select';
  switch (type) {
    case 'integer':
      return 'integer';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'object': {
      const extra = prop.additionalProperties;
      if (isRecord(extra) && schemaType(extra) === 'string' && !isRecord(prop.properties)) return 'string-map';
      return 'json';
    }
    case 'array': {
      const items = prop.items;
      if (isRecord(items) && schemaType(items) === 'string') return 'string-list';
      return 'json';
    }
    default:
      return prop.format === 'textarea' ? 'textarea' : 'text';
  }
}

function humanize(name: string): string {
  const spaced = name.replace(/_/g, ' ');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/** The fields of an object schema, in property order, required ones first-class. */
export function fieldsFromSchema(schema: JsonSchema | null | undefined): SchemaField[] {
  if (!schema || !isRecord(schema.properties)) return [];
  const required = new Set(Array.isArray(schema.required) ? (schema.required as unknown[]).filter((x) => typeof x === 'string') : []);
  return Object.entries(schema.properties).map(([name, raw]) => {
    const prop: JsonSchema = isRecord(raw) ? raw : {};
    const kind = kindOf(prop);
    return {
      name,
      kind,
      label: typeof prop.title === 'string' && prop.title !== '' ? prop.title : humanize(name),
      description: typeof prop.description === 'string' ? prop.description : null,
      required: required.has(name),
      defaultValue: prop.default,
      options: kind === 'select' ? (prop.enum as unknown[]).map((v) => String(v)) : null,
      minimum: typeof prop.minimum === 'number' ? prop.minimum : null,
      maximum: typeof prop.maximum === 'number' ? prop.maximum : null,
      pattern: typeof prop.pattern === 'string' ? prop.pattern : null,
      placeholder: typeof prop.examples === 'object' && Array.isArray(prop.examples) ? String(prop.examples[0] ?? '') : null,
    };
  });
}

/** Converts a stored config value to what the field's input holds. */
export function toFieldValue(field: SchemaField, value: unknown): FieldValue {
  switch (field.kind) {
    case 'boolean':
      return value === true || value === 'true';
    case 'string-map':
      return isRecord(value) ? Object.entries(value).map(([key, v]) => ({ key, value: v === null || v === undefined ? '' : String(v) })) : [];
    case 'string-list':
      return Array.isArray(value) ? value.map((v) => String(v)).join('\n') : typeof value === 'string' ? value : '';
    case 'json':
      return value === undefined || value === null ? '' : JSON.stringify(value, null, 2);
    default:
      return value === undefined || value === null ? '' : String(value);
  }
}

/** Initial inputs: the existing config where present, else the schema default, else empty. */
export function initialValues(fields: SchemaField[], config?: Record<string, unknown> | null): FormValues {
  const values: FormValues = {};
  for (const field of fields) {
    const present = config && Object.prototype.hasOwnProperty.call(config, field.name);
    values[field.name] = toFieldValue(field, present ? config[field.name] : field.defaultValue);
  }
  return values;
}

export type Coerced<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses an integer input: whole numbers only, optional sign, surrounding spaces allowed. */
export function coerceInteger(input: string): Coerced<number> {
  const trimmed = input.trim();
  if (!/^[-+]?\d+$/.test(trimmed)) return { ok: false, error: 'Must be a whole number' };
  const value = Number(trimmed);
  if (!Number.isSafeInteger(value)) return { ok: false, error: 'Number is too large' };
  return { ok: true, value };
}

export function coerceNumber(input: string): Coerced<number> {
  const trimmed = input.trim();
  const value = Number(trimmed);
  if (trimmed === '' || !Number.isFinite(value)) return { ok: false, error: 'Must be a number' };
  return { ok: true, value };
}

/** Booleans arrive from checkboxes, but tolerate text as well. */
export function coerceBoolean(input: FieldValue): boolean {
  if (typeof input === 'boolean') return input;
  if (typeof input === 'string') return ['true', '1', 'yes', 'on'].includes(input.trim().toLowerCase());
  return false;
}

function isBlank(value: FieldValue): boolean {
  if (typeof value === 'string') return value.trim() === '';
  if (Array.isArray(value)) return value.every((row) => row.key.trim() === '' && row.value === '');
  return false;
}

function rangeError(field: SchemaField, n: number): string | null {
  if (field.minimum !== null && n < field.minimum) return `Must be at least ${field.minimum}`;
  if (field.maximum !== null && n > field.maximum) return `Must be at most ${field.maximum}`;
  return null;
}

/**
 * Turns inputs into a config object. Blank optional fields are left out (the server applies its
 * defaults); blank required fields, bad numbers, bad JSON and duplicate map keys are errors.
 */
export function toConfig(fields: SchemaField[], values: FormValues): { config: Record<string, unknown>; errors: FieldErrors } {
  const config: Record<string, unknown> = {};
  const errors: FieldErrors = {};
  const fail = (name: string, message: string) => {
    (errors[name] ??= []).push(message);
  };

  for (const field of fields) {
    const input = values[field.name] ?? toFieldValue(field, undefined);
    if (field.kind === 'boolean') {
      config[field.name] = coerceBoolean(input);
      continue;
    }
    if (isBlank(input)) {
      if (field.required) fail(field.name, 'This field is required');
      continue;
    }
    switch (field.kind) {
      case 'integer':
      case 'number': {
        const parsed = field.kind === 'integer' ? coerceInteger(String(input)) : coerceNumber(String(input));
        if (!parsed.ok) fail(field.name, parsed.error);
        else {
          const range = rangeError(field, parsed.value);
          if (range) fail(field.name, range);
          else config[field.name] = parsed.value;
        }
        break;
      }
      case 'string-map': {
        const out: Record<string, string> = {};
        for (const row of Array.isArray(input) ? input : []) {
          const key = row.key.trim();
          if (key === '' && row.value === '') continue;
          if (key === '') fail(field.name, 'Every value needs a name');
          else if (Object.prototype.hasOwnProperty.call(out, key)) fail(field.name, `Duplicate name: ${key}`);
          else out[key] = row.value;
        }
        config[field.name] = out;
        break;
      }
      case 'string-list':
        config[field.name] = String(input)
          .split(/\r?\n/)
          .map((s) => s.trim())
          .filter((s) => s !== '');
        break;
      case 'json': {
        try {
          config[field.name] = JSON.parse(String(input));
        } catch {
          fail(field.name, 'Must be valid JSON');
        }
        break;
      }
      default: {
        const text = String(input);
        if (field.kind === 'select' && field.options && !field.options.includes(text)) fail(field.name, 'Choose one of the options');
        else config[field.name] = text;
      }
    }
  }
  return { config, errors };
}

/* ---------- API error paths ---------- */

export type PathSegment = string | number;

/**
 * Splits an API error path: `steps[1].config.repository` → ['steps', 1, 'config', 'repository'].
 * JSON Pointers (`/steps/1/config/repository`) are accepted too.
 */
export function parseErrorPath(path: string): PathSegment[] {
  if (path.startsWith('/')) {
    return path
      .slice(1)
      .split('/')
      .filter((p) => p !== '')
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  }
  const segments: PathSegment[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\[["']?([^\]"']*)["']?\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path)) !== null) {
    if (m[1] !== undefined) segments.push(m[1]);
    else if (m[2] !== undefined) segments.push(Number(m[2]));
    else if (m[3] !== undefined) segments.push(m[3]);
  }
  return segments;
}

/** Accepts the API's `details` in any reasonable shape and returns path → messages. */
export function normalizeDetails(details: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!isRecord(details)) return out;
  for (const [path, messages] of Object.entries(details)) {
    if (Array.isArray(messages)) out[path] = messages.map((m) => (typeof m === 'string' ? m : JSON.stringify(m)));
    else if (typeof messages === 'string') out[path] = [messages];
    else if (messages !== null && messages !== undefined) out[path] = [JSON.stringify(messages)];
  }
  return out;
}

function startsWith(segments: PathSegment[], prefix: PathSegment[]): boolean {
  return prefix.every((p, i) => segments[i] === p);
}

/**
 * Errors for the fields of a schema form located at `prefix` (e.g. ['steps', 1, 'config']):
 * `steps[1].config.env.FOO` lands on `env`; an error on the config object itself that names a
 * known field ("must have required property 'repository'") lands on that field; the rest lands
 * on the '' key so nothing is lost.
 */
export function fieldErrorsAt(details: Record<string, string[]>, prefix: PathSegment[], fields: SchemaField[]): FieldErrors {
  const names = new Set(fields.map((f) => f.name));
  const errors: FieldErrors = {};
  const add = (key: string, messages: string[]) => {
    (errors[key] ??= []).push(...messages);
  };
  for (const [path, messages] of Object.entries(details)) {
    const segments = parseErrorPath(path);
    if (!startsWith(segments, prefix)) continue;
    const rest = segments.slice(prefix.length);
    const first = rest[0];
    if (typeof first === 'string' && names.has(first)) {
      add(first, messages);
      continue;
    }
    if (rest.length === 0) {
      // an error about the object as a whole: route messages that quote a field name
      for (const message of messages) {
        const quoted = /['"`]([A-Za-z_][A-Za-z0-9_]*)['"`]/.exec(message)?.[1];
        add(quoted && names.has(quoted) ? quoted : '', [message]);
      }
      continue;
    }
    add(
      '',
      messages.map((m) => `${rest.join('.')}: ${m}`),
    );
  }
  return errors;
}
