import { Type } from 'typebox';
import { PIPELINE_STATUSES, StepDefinitionSchema, TRIGGER_EVENTS, MAX_STEPS } from '../../domain/pipeline.js';
import { RUN_STATUSES } from '../../domain/status.js';
import { Nullable, PageQuery } from './common.js';

const PipelineStatus = Type.Enum(PIPELINE_STATUSES);
const SECRETS_FOR_FORKS = 'Whether pull requests from forks get secret variables and credentials; off by default, because anyone can open one with any code';
const TriggerEvent = Type.Enum(TRIGGER_EVENTS);
const AUTO_CANCEL =
  'A newer push to a branch, or a new commit on a pull request, cancels this pipeline\'s older queued or running runs for it ("superseded by run #N")';
const BADGE_PUBLIC = 'Serve the status badge (/api/pipelines/{id}/badge.svg) without login';
const FORGE_CREDENTIAL = "A token credential of the pipeline's project that commit statuses are sent with; null: ANSFLOW_GITHUB_TOKEN / ANSFLOW_GITLAB_TOKEN";
const REPOSITORY_CREDENTIAL =
  "A credential of the pipeline's project (ssh_key, username_password or token) its repository is read with: the pipeline file, what it includes from the same repository, and the file's git_checkout steps of that repository that name no credential; null: read without one";
const CONFIG_PATH =
  "The pipeline file in the repository, relative to its root (`.ansflow.yml`): each run reads its steps from it at the run's commit; null keeps the steps stored here";

const INPUTS =
  'Launch inputs: typed values a run started by hand is given (POST /api/pipelines/{id}/run/ `inputs`), checked against these declarations and passed to the run as variables of the same names';
export const InputDeclarationSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, description: 'The variable the value becomes (a variable name)' }),
    type: Type.Enum(['string', 'choice', 'boolean', 'number']),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    required: Type.Optional(Type.Boolean({ description: 'A run must give a value (or the input has a default); default false' })),
    default: Type.Optional(Type.Union([Type.String({ maxLength: 65536 }), Type.Number(), Type.Boolean()], { description: "Of the input's type" })),
    options: Type.Optional(Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 100, description: 'For `choice` only: the allowed values' })),
  },
  { additionalProperties: false },
);

const VariableValue = Type.Union([
  Type.String({ maxLength: 65536 }),
  Type.Object({ value: Type.String({ maxLength: 65536 }), secret: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
]);
export const VariablesSchema = Type.Record(Type.String({ maxLength: 128 }), VariableValue, {
  description: 'NAME → "value" or {value, secret: true}; secrets come back as "******" and sending "******" keeps the stored value',
});

const pipelineFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 10000 })),
  status: Type.Optional(PipelineStatus),
  repository_url: Type.Optional(Nullable(Type.String({ maxLength: 2048 }))),
  branch: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'Branch, or a glob such as release/* for webhook matching' })),
  trigger_events: Type.Optional(Type.Array(TriggerEvent, { maxItems: 3 })),
  variables: Type.Optional(VariablesSchema),
  steps: Type.Optional(Type.Array(StepDefinitionSchema, { maxItems: MAX_STEPS })),
  inputs: Type.Optional(Type.Array(InputDeclarationSchema, { maxItems: 50, description: `${INPUTS} (default none)` })),
  secrets_for_forks: Type.Optional(Type.Boolean({ description: `${SECRETS_FOR_FORKS} (default false)` })),
  auto_cancel: Type.Optional(Type.Boolean({ description: `${AUTO_CANCEL} (default false)` })),
  badge_public: Type.Optional(Type.Boolean({ description: `${BADGE_PUBLIC} (default false)` })),
  forge_credential: Type.Optional(Nullable(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$', description: `${FORGE_CREDENTIAL} (default null)` }))),
  config_path: Type.Optional(Nullable(Type.String({ maxLength: 255, description: `${CONFIG_PATH} (default null)` }))),
  repository_credential: Type.Optional(
    Nullable(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$', description: `${REPOSITORY_CREDENTIAL} (default null)` })),
  ),
  project: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 2147483647, description: 'Project id; omitted: the `default` project on create, unchanged on update' }),
  ),
};

export const PipelineBody = Type.Object(pipelineFields, { additionalProperties: false });
export const PipelinePatchBody = Type.Object(
  { ...pipelineFields, name: Type.Optional(pipelineFields.name) },
  { additionalProperties: false, minProperties: 1 },
);

export const PipelineListQuery = Type.Object(
  {
    ...PageQuery,
    search: Type.Optional(Type.String({ maxLength: 200 })),
    status: Type.Optional(PipelineStatus),
    created_by: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
    project: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, description: 'Only this project (id)' })),
  },
  { additionalProperties: false },
);

const Creator = Nullable(Type.Object({ id: Type.Integer(), username: Type.String() }));
const LastRun = Nullable(
  Type.Object({
    id: Type.Integer(),
    status: Type.Enum(RUN_STATUSES),
    started_at: Nullable(Type.String()),
    finished_at: Nullable(Type.String()),
  }),
);

const summaryFields = {
  id: Type.Integer(),
  name: Type.String(),
  description: Type.String(),
  status: PipelineStatus,
  repository_url: Nullable(Type.String()),
  branch: Type.String(),
  trigger_events: Type.Array(TriggerEvent),
  secrets_for_forks: Type.Boolean({ description: SECRETS_FOR_FORKS }),
  auto_cancel: Type.Boolean({ description: AUTO_CANCEL }),
  badge_public: Type.Boolean({ description: BADGE_PUBLIC }),
  forge_credential: Nullable(Type.String({ description: FORGE_CREDENTIAL })),
  config_path: Nullable(Type.String({ description: CONFIG_PATH })),
  repository_credential: Nullable(Type.String({ description: REPOSITORY_CREDENTIAL })),
  project_id: Type.Integer({ description: 'The project it belongs to' }),
  created_by: Creator,
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  steps_count: Type.Integer(),
  last_run: LastRun,
};

export const PipelineSummarySchema = Type.Object(summaryFields);
export const PipelineSchema = Type.Object({
  ...summaryFields,
  variables: VariablesSchema,
  steps: Type.Array(StepDefinitionSchema),
  inputs: Type.Array(InputDeclarationSchema, { description: INPUTS }),
});

export const StepTypeSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  category: Type.String(),
  icon: Type.String(),
  config_schema: Type.Record(Type.String(), Type.Unknown()),
});
