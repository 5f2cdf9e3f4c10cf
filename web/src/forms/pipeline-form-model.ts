/**
 * The pipeline editor's state and rules: loading a pipeline into editable inputs (or a copy of it),
 * steps added / moved / removed, parallel groups as consecutive runs of steps, variables with
 * secret masking, each step's sandbox settings (credential, network, resource limits), and the
 * request body with client-side checks. Errors (client or API) are one
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
import type { LaunchInput } from '../api/types';

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

export const STEP_NETWORKS = ['host', 'none'] as const;
export type StepNetwork = (typeof STEP_NETWORKS)[number];

/** A step's resource limits as typed; '' means the server's default. */
export interface EditorLimits {
  memory: string;
  processes: string;
  cpus: string;
  fileSize: string;
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
  /** The name of the credential the step receives; '' for none. */
  credential: string;
  network: StepNetwork;
  limits: EditorLimits;
  /** Worker labels (`runs_on`): not edited here, but kept as loaded so a save never drops them. */
  runsOn: string[];
  /** Pipelines-as-code fields (`needs`, `when`, `env`): not edited here either, kept as loaded. */
  kept: KeptStepFields;
}

/** The step fields a pipeline file (or the API) may set that this form does not edit. */
export interface KeptStepFields {
  needs?: string[];
  when?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Build outputs (docs/artifacts.md): kept as loaded, so a save never drops them. */
  artifacts?: Record<string, unknown>;
  cache?: Record<string, unknown>;
  from?: Record<string, unknown>;
  /** The environment the step deploys to (its approval gate, docs/delivery.md): kept as loaded. */
  environment?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Copies the kept fields a step has (a pipeline exported and linted, or set through the API). */
function keptFields(s: {
  needs?: unknown;
  when?: unknown;
  env?: unknown;
  artifacts?: unknown;
  cache?: unknown;
  from?: unknown;
  environment?: unknown;
}): KeptStepFields {
  const kept: KeptStepFields = {};
  if (Array.isArray(s.needs)) kept.needs = s.needs.filter((n): n is string => typeof n === 'string');
  if (isObject(s.when)) kept.when = { ...s.when };
  if (isObject(s.env)) kept.env = { ...(s.env as Record<string, string>) };
  for (const field of ['artifacts', 'cache', 'from'] as const) {
    const value = s[field];
    if (isObject(value)) kept[field] = structuredClone(value);
  }
  if (typeof s.environment === 'string' && s.environment !== '') kept.environment = s.environment;
  return kept;
}

export interface EditorVariable {
  uid: string;
  name: string;
  value: string;
  secret: boolean;
  /** The value is the server's mask for a stored secret: sending the mask back keeps it. */
  storedSecret: boolean;
}

/** A launch input as the editor holds it: the default and the options as typed. */
export interface EditorInput {
  uid: string;
  name: string;
  type: LaunchInput['type'];
  description: string;
  required: boolean;
  /** '' = no default; a boolean's is 'true' or 'false'. */
  defaultText: string;
  /** A choice's options, separated by commas. */
  optionsText: string;
}

export const INPUT_TYPES: LaunchInput['type'][] = ['string', 'choice', 'boolean', 'number'];

export function editorInput(i: LaunchInput): EditorInput {
  return {
    uid: newUid('i'),
    name: i.name,
    type: i.type,
    description: i.description ?? '',
    required: i.required === true,
    defaultText: i.default === undefined ? '' : String(i.default),
    optionsText: (i.options ?? []).join(', '),
  };
}

/** The declaration the API takes; a default that does not fit the type is sent as typed (the API names it). */
export function launchInput(e: EditorInput): LaunchInput {
  const out: LaunchInput = { name: e.name.trim(), type: e.type };
  if (e.description.trim() !== '') out.description = e.description.trim();
  if (e.required) out.required = true;
  if (e.type === 'choice')
    out.options = e.optionsText
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== '');
  const d = e.defaultText.trim();
  if (d !== '') {
    if (e.type === 'boolean') out.default = d === 'true' ? true : d === 'false' ? false : d;
    else if (e.type === 'number') out.default = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(d) ? Number(d) : d;
    else out.default = e.type === 'choice' ? d : e.defaultText;
  }
  return out;
}

export interface PipelineForm {
  name: string;
  description: string;
  status: 'active' | 'inactive';
  repositoryUrl: string;
  branch: string;
  triggerEvents: string[];
  /** Whether pull requests from forks get secret variables and credentials. */
  secretsForForks: boolean;
  /** The project (id); null: the `default` project for a new pipeline. */
  project: number | null;
  /** The pipeline file's path in the repository; '' keeps the steps stored here. */
  configPath: string;
  /** Whether the server knows `config_path` (it sent one): only then is it sent back. */
  configPathKnown: boolean;
  /** A newer push or pull-request commit cancels older unfinished runs for it. */
  autoCancel: boolean;
  /** The status badge is public. */
  badgePublic: boolean;
  /** A token credential for commit statuses; '' = the server's token. */
  forgeCredential: string;
  /** The credential the repository is read with; '' = none. */
  repositoryCredential: string;
  /** Whether the server knows `repository_credential` (it sent one): only then is it sent back. */
  repositoryCredentialKnown: boolean;
  variables: EditorVariable[];
  steps: EditorStep[];
  /** Launch inputs a run started by hand is given, as typed (defaults and options as text). */
  inputs: EditorInput[];
}

/** A pipeline as the API returns it (the parts the editor uses). */
export interface PipelineSource {
  name: string;
  description?: string | null;
  status?: string;
  repository_url?: string | null;
  branch?: string | null;
  trigger_events?: string[] | null;
  secrets_for_forks?: boolean | null;
  project_id?: number | null;
  config_path?: string | null;
  auto_cancel?: boolean | null;
  badge_public?: boolean | null;
  forge_credential?: string | null;
  repository_credential?: string | null;
  variables?: Record<string, unknown> | null;
  inputs?: LaunchInput[] | null;
  steps?: Array<{
    name: string;
    type: string;
    config?: Record<string, unknown> | null;
    timeout_seconds?: number | null;
    retries?: number | null;
    continue_on_error?: boolean | null;
    parallel_group?: string | null;
    credential?: string | null;
    network?: string | null;
    limits?: { memory?: number | string | null; processes?: number | null; cpus?: number | null; file_size?: number | string | null } | null;
    runs_on?: string[] | null;
    needs?: string[] | null;
    when?: Record<string, unknown> | null;
    env?: Record<string, string> | null;
    artifacts?: Record<string, unknown> | null;
    cache?: Record<string, unknown> | null;
    from?: Record<string, unknown> | null;
    environment?: string | null;
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
    secretsForForks: false,
    project: null,
    configPath: '',
    configPathKnown: false,
    autoCancel: false,
    badgePublic: false,
    forgeCredential: '',
    repositoryCredential: '',
    repositoryCredentialKnown: false,
    variables: [],
    steps: [],
    inputs: [],
  };
}

export function emptyLimits(): EditorLimits {
  return { memory: '', processes: '', cpus: '', fileSize: '' };
}

/** Whether a step changes any sandbox setting (so its card shows them open). */
export function hasSandboxSettings(step: EditorStep): boolean {
  return step.credential !== '' || step.network !== 'host' || Object.values(step.limits).some((v) => v !== '');
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
    credential: '',
    network: 'host',
    limits: emptyLimits(),
    runsOn: [],
    kept: {},
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
    secretsForForks: p.secrets_for_forks === true,
    project: p.project_id ?? null,
    configPath: p.config_path ?? '',
    configPathKnown: p.config_path !== undefined,
    autoCancel: p.auto_cancel === true,
    badgePublic: p.badge_public === true,
    forgeCredential: p.forge_credential ?? '',
    repositoryCredential: p.repository_credential ?? '',
    repositoryCredentialKnown: p.repository_credential !== undefined,
    variables,
    inputs: (p.inputs ?? []).map(editorInput),
    steps: (p.steps ?? []).map((s) => ({
      uid: newUid('s'),
      name: s.name,
      type: s.type,
      values: initialValues(fieldsFromSchema(schemaOf(types, s.type)), s.config ?? {}),
      timeoutSeconds: s.timeout_seconds == null ? '' : String(s.timeout_seconds),
      retries: s.retries == null ? '' : String(s.retries),
      continueOnError: s.continue_on_error === true,
      parallelGroup: s.parallel_group ?? '',
      credential: s.credential ?? '',
      network: s.network === 'none' ? 'none' : 'host',
      runsOn: Array.isArray(s.runs_on) ? [...s.runs_on] : [],
      kept: keptFields(s),
      limits: {
        memory: s.limits?.memory == null ? '' : String(s.limits.memory),
        processes: s.limits?.processes == null ? '' : String(s.limits.processes),
        cpus: s.limits?.cpus == null ? '' : String(s.limits.cpus),
        fileSize: s.limits?.file_size == null ? '' : String(s.limits.file_size),
      },
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

const SIZE = /^([0-9]+(?:\.[0-9]+)?)\s*([kKmMgGtT]([iI]?[bB])?)?$/;

/**
 * A size as the API takes it: whole bytes as a number (so a stored number round-trips as one), or
 * text with a unit (`512m`, `2g`, `1.5GiB`).
 */
function parseSize(input: string, label: string): number | string | { error: string } | undefined {
  const trimmed = input.trim();
  if (trimmed === '') return undefined;
  const match = SIZE.exec(trimmed);
  if (!match || Number(match[1]) <= 0) return { error: `${label} must be a size such as 512m or 2g` };
  if (/^\d+$/.test(trimmed)) return Number.isSafeInteger(Number(trimmed)) ? Number(trimmed) : { error: `${label} is too large` };
  return trimmed;
}

function parseCpus(input: string): number | { error: string } | undefined {
  const trimmed = input.trim();
  if (trimmed === '') return undefined;
  const n = Number(trimmed);
  if (!/^\d+(\.\d+)?$/.test(trimmed) || n <= 0 || n > 1024) return { error: 'CPUs must be a number of cores above 0, at most 1024 (1.5 = one and a half)' };
  return n;
}

/** The `limits` object of a step, or undefined when every limit is the server's default. */
function limitsPayload(limits: EditorLimits, fail: (field: string, message: string) => void): Record<string, number | string> | undefined {
  const out: Record<string, number | string> = {};
  const memory = parseSize(limits.memory, 'Memory');
  if (typeof memory === 'object') fail('memory', memory.error);
  else if (memory !== undefined) out.memory = memory;
  const processes = parseWhole(limits.processes, 8, 1_000_000, 'Processes');
  if (typeof processes === 'string') fail('processes', processes);
  else if (processes !== undefined) out.processes = processes;
  const cpus = parseCpus(limits.cpus);
  if (typeof cpus === 'object') fail('cpus', cpus.error);
  else if (cpus !== undefined) out.cpus = cpus;
  const fileSize = parseSize(limits.fileSize, 'File size');
  if (typeof fileSize === 'object') fail('file_size', fileSize.error);
  else if (fileSize !== undefined) out.file_size = fileSize;
  return Object.keys(out).length > 0 ? out : undefined;
}

export interface PipelinePayload {
  name: string;
  description: string;
  status: 'active' | 'inactive';
  repository_url: string;
  branch: string;
  trigger_events: string[];
  secrets_for_forks: boolean;
  /** Omitted: the `default` project on create, unchanged on update. */
  project?: number;
  /** The pipeline file's path; null: the stored steps. */
  config_path?: string | null;
  auto_cancel: boolean;
  badge_public: boolean;
  forge_credential: string | null;
  repository_credential?: string | null;
  variables: Record<string, string | { value: string; secret: true }>;
  steps: Array<Record<string, unknown>>;
  inputs: LaunchInput[];
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

  const inputNames = new Set<string>();
  form.inputs.forEach((input, i) => {
    const name = input.name.trim();
    if (!VARIABLE_NAME.test(name)) fail(`inputs[${i}].name`, 'Names use letters, digits and _ and do not start with a digit');
    else if (inputNames.has(name)) fail(`inputs[${i}].name`, `Input ${name} is declared twice`);
    inputNames.add(name);
  });

  const configPath = form.configPath.trim();
  if (configPath !== '' && (configPath.startsWith('/') || configPath.split(/[\\/]/).includes('..') || configPath.includes('\0'))) {
    fail('config_path', 'A path inside the repository, like .ansflow.yml');
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
    if (step.credential !== '') out.credential = step.credential;
    if (step.network === 'none') out.network = 'none';
    if (step.runsOn.length > 0) out.runs_on = [...step.runsOn];
    Object.assign(out, step.kept);
    const limits = limitsPayload(step.limits, (field, message) => fail(`${base}.limits.${field}`, message));
    if (limits) out.limits = limits;
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
      secrets_for_forks: form.secretsForForks,
      ...(form.project !== null ? { project: form.project } : {}),
      // sent when the server has the field or the user set one; a server without it would refuse the key
      ...(form.configPathKnown || form.configPath.trim() !== '' ? { config_path: form.configPath.trim() === '' ? null : form.configPath.trim() } : {}),
      auto_cancel: form.autoCancel,
      badge_public: form.badgePublic,
      forge_credential: form.forgeCredential.trim() === '' ? null : form.forgeCredential.trim(),
      // as config_path: sent when the server has the field or the user chose one
      ...(form.repositoryCredentialKnown || form.repositoryCredential.trim() !== ''
        ? { repository_credential: form.repositoryCredential.trim() === '' ? null : form.repositoryCredential.trim() }
        : {}),
      variables,
      steps,
      inputs: form.inputs.map(launchInput),
    },
    errors,
  };
}

const TOP_LEVEL_FIELDS = [
  'name',
  'description',
  'status',
  'repository_url',
  'branch',
  'trigger_events',
  'secrets_for_forks',
  'project',
  'config_path',
  'auto_cancel',
  'badge_public',
  'forge_credential',
  'repository_credential',
  'variables',
  'steps',
];
const STEP_FIELDS = ['name', 'type', 'timeout_seconds', 'retries', 'continue_on_error', 'parallel_group', 'credential', 'network', 'limits', 'config'];

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

/** Errors of one step's limits, keyed by limit (`memory`, `file_size`, ...); `limits` itself under ''. */
export function stepLimitErrors(errors: ErrorMap, index: number): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [path, messages] of Object.entries(errors)) {
    const segments = parseErrorPath(path);
    if (segments[0] !== 'steps' || segments[1] !== index || segments[2] !== 'limits') continue;
    const key = typeof segments[3] === 'string' ? segments[3] : '';
    (out[key] ??= []).push(...messages);
  }
  return out;
}

/** Whether one step has any error (to open its card and scroll to it). */
export function stepHasErrors(errors: ErrorMap, index: number): boolean {
  return Object.keys(errors).some((p) => p.startsWith(`steps[${index}]`));
}
