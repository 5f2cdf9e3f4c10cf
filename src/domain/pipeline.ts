/**
 * Pipeline definitions: the shape a user saves and a run snapshots. TypeBox schemas are the single
 * source: the static types, the request validators and the OpenAPI document all derive from them.
 */
import { Type, type Static } from 'typebox';
import { MAX_VARIABLE_VALUE_LENGTH, MAX_VARIABLES } from './variables.js';
import { StepArtifactsSchema, StepCacheSchema, StepFromSchema } from './step-outputs.js';

export const PIPELINE_STATUSES = ['active', 'inactive'] as const;
export type PipelineStatus = (typeof PIPELINE_STATUSES)[number];

export const TRIGGER_EVENTS = ['push', 'pull_request', 'tag'] as const;
export type TriggerEventKind = (typeof TRIGGER_EVENTS)[number];

export const MAX_STEPS = 100;
/** An environment's name (`production`, `eu-west.staging`). */
export const ENVIRONMENT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$';
export const MAX_STEP_TIMEOUT_SECONDS = 7 * 24 * 3600;
export const MAX_STEP_RETRIES = 10;

/** A size: bytes, or a number with a unit (`512m`, `2g`, `1.5GiB`), binary multiples. */
export const SizeSchema = Type.Union([
  Type.Integer({ minimum: 1 }),
  Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?\\s*([kKmMgGtT]([iI]?[bB])?)?$', maxLength: 32 }),
]);

/** Resource limits of a step's sandbox; each defaults to the server's (ANSFLOW_STEP_*). */
export const StepLimitsSchema = Type.Object(
  {
    memory: Type.Optional(SizeSchema),
    processes: Type.Optional(Type.Integer({ minimum: 8, maximum: 1_000_000 })),
    /** CPU share in cores (1.5 = one and a half cores). */
    cpus: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1024 })),
    /** The largest file a step may write. */
    file_size: Type.Optional(SizeSchema),
  },
  { additionalProperties: false },
);
export type StepLimits = Static<typeof StepLimitsSchema>;

export const STEP_RUN_CONDITIONS = ['success', 'failure', 'always'] as const;
export type StepRunCondition = (typeof STEP_RUN_CONDITIONS)[number];

/**
 * The run-time part of a step's `when`. The pipeline file's branch/event/paths conditions are
 * decided before the run (by the planner); what is left depends on how the run goes.
 */
export const StepWhenSchema = Type.Object(
  {
    status: Type.Optional(
      Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('always')], {
        description:
          '`success` (default): run when every step it waits for succeeded. `failure`: run only when a step it waits for (directly or through others) failed. `always`: run whatever happened before it (not after a cancel).',
      }),
    ),
  },
  { additionalProperties: false },
);
export type StepWhen = Static<typeof StepWhenSchema>;

export const StepDefinitionSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    type: Type.String({ minLength: 1, maxLength: 64 }),
    config: Type.Record(Type.String(), Type.Unknown(), { default: {} }),
    timeout_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_STEP_TIMEOUT_SECONDS })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_STEP_RETRIES })),
    continue_on_error: Type.Optional(Type.Boolean()),
    parallel_group: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    needs: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
        maxItems: MAX_STEPS,
        description: 'Names of the steps this one waits for. When any step of a pipeline has `needs`, its steps form a graph instead of stages.',
      }),
    ),
    when: Type.Optional(StepWhenSchema),
    env: Type.Optional(
      Type.Record(Type.String(), Type.String({ maxLength: MAX_VARIABLE_VALUE_LENGTH }), {
        maxProperties: MAX_VARIABLES,
        description: "Variables of this step only (a matrix cell's values land here); they override the pipeline's variables of the same name",
      }),
    ),
    runs_on: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), {
        maxItems: 10,
        description: 'Worker labels this step needs; a run goes to a worker that has the labels of all its steps',
      }),
    ),
    credential: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$',
        description: 'The name of a credential this step receives (files or variables inside its sandbox)',
      }),
    ),
    environment: Type.Optional(
      Type.String({
        pattern: ENVIRONMENT_NAME_PATTERN,
        description:
          "The environment of the pipeline's project this step deploys to: the run waits (`waiting`) for the environment's approvals before it starts. All steps of a run that name one name the same",
      }),
    ),
    network: Type.Optional(Type.Union([Type.Literal('host'), Type.Literal('none')], { description: '`none`: the step gets its own empty network namespace' })),
    limits: Type.Optional(StepLimitsSchema),
    artifacts: Type.Optional(StepArtifactsSchema),
    cache: Type.Optional(StepCacheSchema),
    from: Type.Optional(StepFromSchema),
  },
  { additionalProperties: false },
);
export type StepDefinition = Static<typeof StepDefinitionSchema>;

/** The labels a worker needs to take a run: every step's `runs_on`, since one worker runs the whole run (one workspace). */
export function requiredLabels(steps: readonly StepDefinition[]): string[] {
  return [...new Set(steps.flatMap((s) => s.runs_on ?? []))].sort();
}

/**
 * The environment a run's steps deploy to (null: none), or the names when steps name several
 * (which a run cannot do: it waits once, before it starts).
 */
export function runEnvironment(steps: readonly StepDefinition[]): { name: string | null; conflicting: string[] } {
  const names = [...new Set(steps.flatMap((s) => (s.environment ? [s.environment] : [])))];
  return names.length > 1 ? { name: null, conflicting: names } : { name: names[0] ?? null, conflicting: [] };
}

/** A variable as stored and used by the engine (secrets in clear only inside the process). */
export interface VariableValue {
  value: string;
  secret: boolean;
}
export type Variables = Record<string, VariableValue>;

/** What a run executes: a snapshot, so later edits never rewrite history. */
export interface PipelineDefinition {
  name: string;
  repository_url: string | null;
  branch: string;
  steps: StepDefinition[];
  variables: Variables;
  /**
   * The pipeline file the run reads its steps from (null or absent: the stored steps). The run's
   * `steps` are empty until the worker has read and planned the file, then the expanded steps.
   */
  config_path?: string | null;
  /**
   * The name of a credential of the pipeline's project its repository is read with (the pipeline
   * file and what it includes from the same repository, and the file's git_checkout steps of that
   * repository that name no credential of their own). Null or absent: read without one.
   */
  repository_credential?: string | null;
  /** A pipeline file's plan-time `when` of each planned step that has one, by step name (shown with the run's graph). */
  conditions?: Record<string, PlanConditions>;
  /** The pipeline file's steps that `when` left out of this run, and why. */
  left_out?: LeftOutStep[];
}

/** A pipeline file step's `when` conditions that are decided before the run. */
export interface PlanConditions {
  branch?: string[];
  event?: string[];
  paths?: string[];
  paths_ignore?: string[];
}

/** A pipeline file step its `when` left out of a run: nothing of it ran. */
export interface LeftOutStep {
  name: string;
  /** As the planner says it: `skipped: branch "dev" is not in when.branch`. */
  reason: string;
  /** What it would have waited for (names in the file). */
  needs: string[];
  when: PlanConditions;
}

/** The mask shown instead of a secret value; sending it back keeps the stored value. */
export const SECRET_MASK = '******';
