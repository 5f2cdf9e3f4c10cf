import { Type } from 'typebox';
import { RUN_STATUSES, STEP_STATUSES } from '../../domain/status.js';
import { Nullable } from './common.js';
import { HistoryPageQuery } from '../history-paging.js';
import { VariablesSchema } from './pipelines.js';
import { CommitStatusSchema } from './commit-statuses.js';

const RunStatus = Type.Enum(RUN_STATUSES);
const ConfigProblem = Type.Object({
  file: Type.String({ description: 'The file, as the pipeline or its include names it' }),
  path: Type.String({ description: 'The field (`steps[2].needs[0]`); empty for the whole file' }),
  line: Type.Integer({ minimum: 1 }),
  column: Type.Integer({ minimum: 1 }),
  message: Type.String(),
});
const StepStatus = Type.Enum(STEP_STATUSES);

export const TriggerBody = Type.Object(
  {
    branch: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    commit: Type.Optional(Type.String({ minLength: 7, maxLength: 64, description: 'Run this exact commit' })),
    variables: Type.Optional(VariablesSchema),
    inputs: Type.Optional(
      Type.Record(Type.String({ maxLength: 128 }), Type.Union([Type.String({ maxLength: 65536 }), Type.Number(), Type.Boolean()]), {
        maxProperties: 50,
        description:
          "Values for the pipeline's declared launch inputs (its `inputs`), checked against their type and options; each becomes a run variable of its name. Text is read as a boolean (`true`/`false`) or a number where one is declared; a declared input left out takes a run variable of its name, else its default",
      }),
    ),
    ansible: Type.Optional(
      Type.Object(
        {
          limit: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'Hosts or groups (--limit)' })),
          tags: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9_.-]+$', maxLength: 128 }), { maxItems: 100 })),
          check_mode: Type.Optional(Type.Boolean()),
          extra_vars: Type.Optional(Type.Record(Type.String({ maxLength: 128 }), Type.Unknown(), { maxProperties: 200 })),
        },
        { additionalProperties: false, description: "Changes every Ansible step of this run: limit, tags, check mode; extra_vars are merged over the step's" },
      ),
    ),
  },
  { additionalProperties: false },
);

const TriggerSchema = Type.Object(
  {
    type: Type.Enum(['manual', 'webhook', 'api', 'scheduled']),
    user: Type.Optional(Type.Object({ id: Type.Integer(), username: Type.String() })),
    event: Type.Optional(Type.String()),
    delivery_id: Type.Optional(Type.String()),
    provider: Type.Optional(Type.String()),
    ref: Type.Optional(Type.String()),
    author: Type.Optional(Nullable(Type.String())),
    pull_request: Type.Optional(
      Type.Object({ number: Type.Integer(), source_branch: Type.String(), target_branch: Type.String() }, { description: 'A pull/merge request run' }),
    ),
  },
  { additionalProperties: true },
);

const CurrentStep = Nullable(Type.Object({ id: Type.Integer(), name: Type.String(), status: StepStatus, started_at: Nullable(Type.String()) }));

const runCommon = {
  id: Type.Integer(),
  number: Type.Integer({ description: 'Per-pipeline run number' }),
  pipeline: Type.Object({ id: Nullable(Type.Integer()), name: Type.String() }),
  project_id: Type.Integer({ description: "The pipeline's project when the run started" }),
  status: RunStatus,
  trigger: TriggerSchema,
  branch: Type.String(),
  commit: Nullable(Type.String()),
  created_at: Type.String(),
  started_at: Nullable(Type.String()),
  finished_at: Nullable(Type.String()),
  duration_ms: Nullable(Type.Integer()),
  progress: Type.Integer({ minimum: 0, maximum: 100 }),
  error_reason: Nullable(Type.String()),
  secrets_withheld: Nullable(
    Type.String({ description: 'Why the run got no secret variables and no credentials (`pull request from a fork`); null when it got them' }),
  ),
  pinned_at: Nullable(Type.String({ description: 'When a user pinned the run (retention keeps it); null when not pinned' })),
  environment: Nullable(
    Type.Object(
      { id: Nullable(Type.Integer()), name: Type.String() },
      { description: 'The environment its steps deploy to (id null once the environment was deleted); its gate: GET /api/pipeline-runs/{id}/approvals/' },
    ),
  ),
  waiting_since: Nullable(Type.String({ description: 'When it started waiting at its environment; null when it never waited' })),
  approved_at: Nullable(Type.String({ description: 'When its environment let it through; null before, or when it deploys nowhere' })),
};

export const RunSummarySchema = Type.Object(runCommon);

/** A pipeline file step's `when`, every condition as a list. */
const StepConditions = Type.Object({
  branch: Type.Optional(Type.Array(Type.String())),
  event: Type.Optional(Type.Array(Type.String())),
  paths: Type.Optional(Type.Array(Type.String())),
  paths_ignore: Type.Optional(Type.Array(Type.String())),
});

export const RunSchema = Type.Object({
  ...runCommon,
  commit_statuses: Type.Array(CommitStatusSchema, {
    description: 'The statuses this run reports on its commit (GitHub/GitLab webhook runs), in order, and whether each was delivered',
  }),
  variables: VariablesSchema,
  config_errors: Nullable(
    Type.Array(ConfigProblem, {
      description:
        "An invalid pipeline file's problems (the run started no step and ended `error`); null when its steps were read without problems or are stored ones",
    }),
  ),
  current_step: CurrentStep,
  steps: Type.Array(
    Type.Object({
      id: Type.Integer(),
      name: Type.String(),
      type: Type.String(),
      status: StepStatus,
      started_at: Nullable(Type.String()),
      finished_at: Nullable(Type.String()),
      exit_code: Nullable(Type.Integer()),
      attempts: Type.Integer(),
      parallel_group: Nullable(Type.String()),
      needs: Type.Optional(
        Nullable(Type.Array(Type.String(), { description: 'The steps it waited on (a graph); null when the steps ran as stages (parallel_group)' })),
      ),
      when: Type.Optional(
        Nullable(
          Type.Object(
            { ...StepConditions.properties, status: Type.Optional(Type.String()) },
            {
              description:
                "The pipeline file step's `when`: the conditions it was planned under, and `status` (when it runs: success, failure, always); null: none",
            },
          ),
        ),
      ),
      duration_ms: Nullable(Type.Integer()),
      message: Nullable(Type.String()),
      reused_from: Type.Optional(
        Nullable(Type.Integer({ description: "A retry's step not run again: the id of the original run's step whose result (and log) it reuses" })),
      ),
    }),
  ),
  left_out_steps: Type.Array(
    Type.Object({
      name: Type.String(),
      reason: Type.String({ description: '`skipped: branch "dev" is not in when.branch`, `skipped: no matching changes`, …' }),
      needs: Type.Array(Type.String()),
      when: StepConditions,
    }),
    { description: "The pipeline file's steps whose `when` left them out of this run (no step row: nothing of them ran)" },
  ),
  retry_of: Type.Optional(
    Nullable(
      Type.Object({ run_id: Type.Integer(), number: Type.Integer(), from: Type.String() }, { description: 'The run this one retries, and from which step' }),
    ),
  ),
});

const RunFilters = {
  status: Type.Optional(RunStatus),
  branch: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'Only runs of this branch (exact)' })),
  trigger: Type.Optional(Type.Enum(['manual', 'webhook', 'api', 'scheduled'], { description: 'Only runs started this way' })),
};

export const RunListQuery = Type.Object({ ...HistoryPageQuery, ...RunFilters }, { additionalProperties: false });
export const AllRunsQuery = Type.Object(
  {
    ...HistoryPageQuery,
    ...RunFilters,
    pipeline: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
    project: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, description: 'Only this project (id)' })),
  },
  { additionalProperties: false },
);

export const LogQuery = Type.Object(
  {
    step: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, description: 'One step only' })),
    offset: Type.Optional(Type.Integer({ minimum: 0, description: 'Return the bytes after this offset; X-Next-Offset tells where to continue' })),
  },
  { additionalProperties: false },
);
