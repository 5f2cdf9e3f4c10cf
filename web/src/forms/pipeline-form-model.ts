/**
 * The pipeline editor's state and rules: loading a pipeline into editable inputs (or a copy of it),
 * steps added / moved / removed, parallel groups as consecutive runs of steps, variables with
 * secret masking, and the request body with client-side checks. Errors (client or API) are one
 * map from canonical path (`steps[1].config.repository`) to messages, so both show the same way.
 *
 * Pure TypeScript (no DOM, no React).
 */
import {
  fieldsFromSchema,
  initialValues,
  normalizeDetails,
  parseErrorPath,
  toConfig,
  type FormValues,
  type JsonSchema,
  type PathSegment,
} from './schema-form-model';

export const SECRET_MASK = '******';
export const TRIGGER_EVENTS = ['push', 'pull_request', 'tag'] as const;
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface StepTypeInfo {
  id: string;
  name: string;
  description?: string;
  category?: string;
  icon?: string;
  config_schema: JsonSchema;
}

export interface EditorStep {
  uid: string;
  name: string;
  type: string;
  values: FormValues;
  timeoutSeconds: string;
  retries: string;
  continueOnError: boolean;
  parallelGroup: string;
}

export interface EditorVariable {
  uid: string;
  name: string;
  value: string;
  secret: boolean;
  /** The value is the server's mask for a stored secret: sending the mask back keeps it. */
  storedSecret: boolean;
}

export interface PipelineForm {
  name: string;
  description: string;
  status: 'active' | 'inactive';
  repositoryUrl: string;
  branch: string;
  triggerEvents: string[];
  variables: EditorVariable[];
  steps: EditorStep[];
}

/** A pipeline as the API returns it (the parts the editor uses). */
export interface PipelineSource {
  name: string;
  description?: string | null;
  status?: string;
  repository_url?: string | null;
  branch?: string | null;
  trigger_events?: string[] | null;
  variables?: Record<string, unknown> | null;
  steps?: Array<{
    name: string;
    type: string;
    config?: Record<string, unknown> | null;
    timeout_seconds?: number | null;
    retries?: number | null;
    continue_on_error?: boolean | null;
    parallel_group?: string | null;
  }> | null;
}

export type ErrorMap = Record<string, string[]>;

let uidCounter = 0;
export function newUid(prefix = 'u'): string {
  uidCounter += 1;
  return `${prefix}${uidCounter}`;
}

function schemaOf(types: StepTypeInfo[], type: string): JsonSchema | null {
  return types.find((t) => t.id === type)?.config_schema ?? null;
}

export function emptyForm(): PipelineForm {
  return {
    name: '',
    description: '',
    status: 'active',
    repositoryUrl: '',
    branch: 'main',
    triggerEvents: ['push'],
    variables: [],
    steps: [],
  };
}

export function newStep(types: StepTypeInfo[], type: string, existing: EditorStep[]): EditorStep {
  return {
    uid: newUid('s'),
    name: `${types.find((t) => t.id === type)?.name ?? 'Step'} ${existing.length + 1}`,
    type,
    values: initialValues(fieldsFromSchema(schemaOf(types, type))),
    timeoutSeconds: '',
    retries: '',
    continueOnError: false,
    parallelGroup: '',
  };
}

/** Switches a step's type: the config starts again from the new type's defaults. */
export function changeStepType(step: EditorStep, types: StepTypeInfo[], type: string): EditorStep {
  return { ...step, type, values: initialValues(fieldsFromSchema(schemaOf(types, type))) };
}

/**
 * Loads a pipeline. As a copy (`duplicate`), the name gets " (copy)" and stored secrets are cleared,
 * because their values never leave the server.
 */
export function formFromPipeline(p: PipelineSource, types: StepTypeInfo[], duplicate = false): PipelineForm {
  const variables: EditorVariable[] = Object.entries(p.variables ?? {}).map(([name, raw]) => {
    const secret = typeof raw === 'object' && raw !== null && (raw as { secret?: unknown }).secret === true;
    const value = typeof raw === 'object' && raw !== null ? String((raw as { value?: unknown }).value ?? '') : String(raw ?? '');
    const stored = secret && value === SECRET_MASK;
    return {
      uid: newUid('v'),
      name,
      value: duplicate && stored ? '' : value,
      secret,
      storedSecret: stored && !duplicate,
    };
  });
  return {
    name: duplicate ? `${p.name} (copy)` : p.name,
    description: p.description ?? '',
    status: p.status === 'inactive' ? 'inactive' : 'active',
    repositoryUrl: p.repository_url ?? '',
    branch: p.branch ?? 'main',
    triggerEvents: [...(p.trigger_events ?? [])],
    variables,
    steps: (p.steps ?? []).map((s) => ({
      uid: newUid('s'),
      name: s.name,
      type: s.type,
      values: initialValues(fieldsFromSchema(schemaOf(types, s.type)), s.config ?? {}),
      timeoutSeconds: s.timeout_seconds == null ? '' : String(s.timeout_seconds),
      retries: s.retries == null ? '' : String(s.retries),
      continueOnError: s.continue_on_error === true,
      parallelGroup: s.parallel_group ?? '',
    })),
  };
}

/** Moves an item; out-of-range moves return the list unchanged. */
export function moveItem<T>(list: readonly T[], from: number, to: number): T[] {
  if (from === to || from < 0 || to < 0 || from >= list.length || to >= list.length) return [...list];
  const copy = [...list];
  const [item] = copy.splice(from, 1);
  copy.splice(to, 0, item as T);
  return copy;
}

export interface StepSegment {
  /** The parallel group shared by these consecutive steps, or null for a single sequential step. */
  group: string | null;
  items: Array<{ step: EditorStep; index: number }>;
}

/** Consecutive steps with the same parallel_group form one segment (they run at the same time). */
export function segmentSteps(steps: EditorStep[]): StepSegment[] {
  const segments: StepSegment[] = [];
  steps.forEach((step, index) => {
    const group = step.parallelGroup.trim() === '' ? null : step.parallelGroup.trim();
    const last = segments[segments.length - 1];
    if (group !== null && last && last.group === group) last.items.push({ step, index });
    else segments.push({ group, items: [{ step, index }] });
  });
  return segments;
}

/** Canonical form of an error path, so `/steps/1/name` and `steps[1].name` are the same key. */
export function canonicalPath(segments: PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}

/** API `details` → canonical error map. */
export function errorMapFromDetails(details: unknown): ErrorMap {
  const out: ErrorMap = {};
  for (const [path, messages] of Object.entries(normalizeDetails(details))) {
    const key = canonicalPath(parseErrorPath(path));
    (out[key] ??= []).push(...messages);
  }
  return out;
}

function parseWhole(input: string, min: number, max: number, label: string): number | string | undefined {
  const trimmed = input.trim();
  if (trimmed === '') return undefined;
  if (!/^\d+$/.test(trimmed)) return `${label} must be a whole number`;
  const n = Number(trimmed);
  if (n < min || n > max) return `${label} must be between ${min} and ${max}`;
  return n;
}

export interface PipelinePayload {
  name: string;
  description: string;
  status: 'active' | 'inactive';
  repository_url: string;
  branch: string;
  trigger_events: string[];
  variables: Record<string, string | { value: string; secret: true }>;
  steps: Array<Record<string, unknown>>;
}

/** Builds the request body and the client-side errors (same paths the API uses). */
export function buildPayload(form: PipelineForm, types: StepTypeInfo[]): { payload: PipelinePayload; errors: ErrorMap } {
  const errors: ErrorMap = {};
  const fail = (path: string, message: string) => {
    (errors[path] ??= []).push(message);
  };

  if (form.name.trim() === '') fail('name', 'Name is required');

  const variables: PipelinePayload['variables'] = {};
  for (const v of form.variables) {
    const name = v.name.trim();
    if (name === '' && v.value === '') continue;
    const path = `variables.${name}`;
    if (!VARIABLE_NAME.test(name)) {
      fail(name === '' ? 'variables' : path, 'Names use letters, digits and _ and do not start with a digit');
      continue;
    }
    if (Object.prototype.hasOwnProperty.call(variables, name)) {
      fail(path, `Duplicate variable ${name}`);
      continue;
    }
    if (v.secret && !v.storedSecret && v.value === '') fail(path, 'Enter the secret value');
    variables[name] = v.secret ? { value: v.value, secret: true } : v.value;
  }

  const steps = form.steps.map((step, i) => {
    const base = `steps[${i}]`;
    if (step.name.trim() === '') fail(`${base}.name`, 'Step name is required');
    const schema = schemaOf(types, step.type);
    if (!schema) fail(`${base}.type`, 'Choose a step type');
    const { config, errors: configErrors } = toConfig(fieldsFromSchema(schema), step.values);
    for (const [field, messages] of Object.entries(configErrors)) for (const m of messages) fail(`${base}.config.${field}`, m);
    const out: Record<string, unknown> = { name: step.name.trim(), type: step.type, config };
    const timeout = parseWhole(step.timeoutSeconds, 1, 7 * 24 * 3600, 'Timeout');
    if (typeof timeout === 'string') fail(`${base}.timeout_seconds`, timeout);
    else if (timeout !== undefined) out.timeout_seconds = timeout;
    const retries = parseWhole(step.retries, 0, 10, 'Retries');
    if (typeof retries === 'string') fail(`${base}.retries`, retries);
    else if (retries !== undefined) out.retries = retries;
    if (step.continueOnError) out.continue_on_error = true;
    if (step.parallelGroup.trim() !== '') out.parallel_group = step.parallelGroup.trim();
    return out;
  });

  return {
    payload: {
      name: form.name.trim(),
      description: form.description,
      status: form.status,
      repository_url: form.repositoryUrl.trim(),
      branch: form.branch.trim() === '' ? 'main' : form.branch.trim(),
      trigger_events: TRIGGER_EVENTS.filter((e) => form.triggerEvents.includes(e)),
      variables,
      steps,
    },
    errors,
  };
}

const TOP_LEVEL_FIELDS = ['name', 'description', 'status', 'repository_url', 'branch', 'trigger_events', 'variables', 'steps'];
const STEP_FIELDS = ['name', 'type', 'timeout_seconds', 'retries', 'continue_on_error', 'parallel_group', 'config'];

/**
 * Whether the editor shows an error path next to an input (or on a step card). The rest goes into
 * the summary at the top of the form so no message is ever lost.
 */
export function isShownInline(path: string, stepCount: number): boolean {
  const segments = parseErrorPath(path);
  const [first, second, third] = segments;
  if (typeof first !== 'string') return false;
  if (first === 'variables') return true;
  if (first === 'steps') {
    if (segments.length === 1) return true;
    if (typeof second !== 'number' || second >= stepCount) return false;
    return segments.length === 2 || (typeof third === 'string' && STEP_FIELDS.includes(third));
  }
  return segments.length === 1 && TOP_LEVEL_FIELDS.includes(first);
}

/** Variable errors keyed by variable name (`variables.FOO` → FOO; `variables` → ''). */
export function variableErrors(errors: ErrorMap): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [path, messages] of Object.entries(errors)) {
    const segments = parseErrorPath(path);
    if (segments[0] !== 'variables') continue;
    const key = segments.length > 1 ? String(segments[1]) : '';
    (out[key] ??= []).push(...messages);
  }
  return out;
}

/** Errors of one step's own fields (not its config), keyed by field; the step itself under ''. */
export function stepFieldErrors(errors: ErrorMap, index: number): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [path, messages] of Object.entries(errors)) {
    const segments = parseErrorPath(path);
    if (segments[0] !== 'steps' || segments[1] !== index) continue;
    const field = segments[2];
    if (field === 'config') continue;
    const key = typeof field === 'string' ? field : '';
    (out[key] ??= []).push(...messages);
  }
  return out;
}

/** Whether one step has any error (to open its card and scroll to it). */
export function stepHasErrors(errors: ErrorMap, index: number): boolean {
  return Object.keys(errors).some((p) => p.startsWith(`steps[${index}]`));
}
