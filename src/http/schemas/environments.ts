import { Type } from 'typebox';
import { ENVIRONMENT_NAME_PATTERN } from '../../domain/pipeline.js';
import { PROJECT_ROLES } from '../../domain/permissions.js';
import { ENVIRONMENT_CONCURRENCY, MAX_REQUIRED_APPROVALS, MAX_WAIT_SECONDS, TIMEOUT_OUTCOMES } from '../../domain/environments.js';
import { RUN_STATUSES } from '../../domain/status.js';
import { Nullable, PageQuery } from './common.js';

const Approvers = Type.Object(
  {
    users: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 150 }), { maxItems: 50, description: 'Usernames' })),
    roles: Type.Optional(Type.Array(Type.Enum(PROJECT_ROLES), { maxItems: 4, description: 'Project roles' })),
  },
  {
    additionalProperties: false,
    description:
      "Who may approve: these users and the members with these project roles (a developer or above: viewers never approve). None named: the project's maintainers and owners. Global admins always may.",
  },
);

const fields = {
  name: Type.String({ pattern: ENVIRONMENT_NAME_PATTERN, description: 'What a step names in `environment:`; unique in its project' }),
  description: Type.Optional(Type.String({ maxLength: 10000 })),
  project: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 2147483647, description: 'Project id; omitted: the `default` project on create. An environment never moves.' }),
  ),
  required_approvals: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: MAX_REQUIRED_APPROVALS,
      description: 'Distinct approvals a deployment needs (default 1; 0: none, the other rules still apply)',
    }),
  ),
  approvers: Type.Optional(Approvers),
  prevent_self_approval: Type.Optional(
    Type.Boolean({ description: "The run's own author (who started it, a pull request's author) may not approve it (default false)" }),
  ),
  branches: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 255 }), {
      maxItems: 50,
      description: 'Branch globs allowed to deploy here (`main`, `release/*`); empty: any (default)',
    }),
  ),
  wait_timer_seconds: Type.Optional(
    Type.Integer({ minimum: 0, maximum: MAX_WAIT_SECONDS, description: 'Seconds an approved deployment still waits before it starts (default 0)' }),
  ),
  approval_timeout_seconds: Type.Optional(
    Nullable(
      Type.Integer({
        minimum: 1,
        maximum: MAX_WAIT_SECONDS,
        description: 'A deployment still waiting for approval after this long ends by `timeout_outcome` (default null: never)',
      }),
    ),
  ),
  timeout_outcome: Type.Optional(Type.Enum(TIMEOUT_OUTCOMES, { description: '`reject` (default): the run ends `cancelled`; `approve`: it proceeds' })),
  concurrency: Type.Optional(
    Nullable(
      Type.Enum(ENVIRONMENT_CONCURRENCY, {
        description:
          '`queue`: one deployment at a time, the others wait in order; `latest`: a newer waiting deployment replaces older waiting ones; null (default): no limit',
      }),
    ),
  ),
};

export const EnvironmentBody = Type.Object(fields, { additionalProperties: false });

export const EnvironmentListQuery = Type.Object(
  { ...PageQuery, project: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, description: 'Only this project (id)' })) },
  { additionalProperties: false },
);

export const DeploymentSchema = Type.Object({
  run: Type.Object({
    id: Type.Integer(),
    number: Type.Integer(),
    pipeline: Type.Object({ id: Nullable(Type.Integer()), name: Type.String() }),
    status: Type.Enum(RUN_STATUSES),
  }),
  branch: Type.String(),
  commit: Nullable(Type.String()),
  triggered_by: Nullable(Type.String()),
  approved_by: Type.Array(Type.String()),
  created_at: Type.String(),
  started_at: Nullable(Type.String()),
  finished_at: Nullable(Type.String()),
});

export const EnvironmentSchema = Type.Object({
  id: Type.Integer(),
  project_id: Type.Integer(),
  name: Type.String(),
  description: Type.String(),
  required_approvals: Type.Integer(),
  approvers: Type.Object({ users: Type.Array(Type.String()), roles: Type.Array(Type.Enum(PROJECT_ROLES)) }),
  prevent_self_approval: Type.Boolean(),
  branches: Type.Array(Type.String()),
  wait_timer_seconds: Type.Integer(),
  approval_timeout_seconds: Nullable(Type.Integer()),
  timeout_outcome: Type.Enum(TIMEOUT_OUTCOMES),
  concurrency: Nullable(Type.Enum(ENVIRONMENT_CONCURRENCY)),
  created_by: Nullable(Type.Object({ id: Type.Integer(), username: Type.String() })),
  created_at: Type.String(),
  updated_at: Type.String(),
  /** What is live: the newest successful deployment. */
  live: Nullable(DeploymentSchema),
});

export const ApprovalBody = Type.Object(
  {
    decision: Type.Enum(['approve', 'reject']),
    comment: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);

export const GateSchema = Type.Object({
  environment: Nullable(Type.Object({ id: Nullable(Type.Integer()), name: Type.String() })),
  state: Type.Enum(['none', 'waiting', 'approved', 'rejected', 'timed_out', 'cancelled'], {
    description: '`none`: the run deploys nowhere; `waiting`: for approvals; then how its gate ended',
  }),
  required_approvals: Type.Integer(),
  approvals: Type.Integer({ description: 'Distinct approvals so far' }),
  approvers: Type.String({ description: 'Who may approve, in words ("2 of: alice, role maintainer")' }),
  can_decide: Type.Boolean({ description: "Whether the caller's decision would count now" }),
  cannot_decide_reason: Nullable(Type.String()),
  release_at: Nullable(Type.String({ description: 'An approved run waiting for the wait timer or the deployment queue: when it may start' })),
  fork_pull_request: Type.Optional(
    Nullable(
      Type.Object(
        { number: Nullable(Type.Integer()), author: Type.String(), commit: Type.String() },
        {
          description:
            "Set while the run waits for a maintainer to give a pull request from a fork the pipeline's secrets (secrets_for_forks): the approval is recorded against this author and head commit; the environment's gate comes after it",
        },
      ),
    ),
  ),
  decisions: Type.Array(
    Type.Object({
      user: Type.Object({ id: Type.Integer(), username: Type.String() }),
      decision: Type.Enum(['approve', 'reject']),
      comment: Type.String(),
      commit: Nullable(Type.String({ description: 'The commit the run had when this decision was given' })),
      created_at: Type.String(),
    }),
  ),
});
