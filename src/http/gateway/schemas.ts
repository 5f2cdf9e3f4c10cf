/** TypeBox schemas of the gateway (port 8001) and of the deliveries API: validators and OpenAPI. */
import { HistoryPageQuery } from '../history-paging.js';
import { Type } from 'typebox';
import { Nullable } from '../schemas/common.js';
import { VERDICTS } from '../../store/deliveries-repository.js';
import { JENKINS_BUILD_STATUSES } from '../../store/jenkins-builds-repository.js';

export const WebhookAnswerSchema = Type.Object({
  delivery_id: Type.String({ description: 'The provider delivery id (X-GitHub-Delivery, Idempotency-Key / X-Gitlab-Event-UUID)' }),
  event: Type.String(),
  triggered_runs: Type.Array(Type.Integer(), { description: 'Runs started by this delivery (for a duplicate: by the first one)' }),
});

const Health = Type.Enum(['healthy', 'unhealthy']);
const RetentionPolicySchema = Type.Object({ keep_runs: Nullable(Type.Integer()), keep_days: Nullable(Type.Integer()) });
const StorageSchema = Type.Object(
  {
    disk: Nullable(
      Type.Object(
        {
          database_bytes: Nullable(Type.Integer()),
          logs_bytes: Type.Integer(),
          workspaces_bytes: Type.Integer(),
          artifacts_bytes: Type.Integer(),
          measured_at: Type.String(),
        },
        { description: 'Measured in the background at most once a minute; null until the first measurement' },
      ),
    ),
    retention: Type.Object({
      default: RetentionPolicySchema,
      sweeper: Nullable(
        Type.Object({
          claimed_by: Nullable(Type.String({ description: 'The process sweeping now, if one is' })),
          last_started_at: Nullable(Type.String()),
          last_finished_at: Nullable(Type.String()),
          last_deleted_runs: Type.Integer(),
          last_freed_bytes: Type.Integer(),
          last_error: Nullable(Type.String()),
          total_deleted_runs: Type.Integer(),
        }),
      ),
    }),
  },
  { description: 'Disk use and what the retention sweeper last did (docs/operations.md, Retention)' },
);
export const SystemStatusSchema = Type.Object({
  status: Type.Enum(['healthy', 'degraded', 'unhealthy']),
  version: Type.String(),
  uptime_seconds: Type.Integer(),
  timestamp: Type.String(),
  services: Type.Record(Type.String(), Health, { description: 'database always; redis and rabbitmq when configured' }),
  checks: Type.Record(Type.String(), Type.Object({ status: Health, error: Type.Optional(Type.String()), latency_ms: Type.Integer() })),
  metrics: Type.Object({
    active_pipelines: Nullable(Type.Integer()),
    running_jobs: Nullable(Type.Integer()),
    queue_size: Nullable(Type.Integer()),
  }),
  workers: Type.Array(
    Type.Object({
      id: Type.String(),
      hostname: Type.String(),
      pid: Type.Integer(),
      labels: Type.Array(Type.String()),
      concurrency: Type.Integer({ description: 'Run slots' }),
      active: Type.Integer({ description: 'Runs executing now' }),
      started_at: Type.String(),
      heartbeat_at: Type.String(),
      sandbox: Nullable(
        Type.Object({
          isolated: Type.Boolean(),
          mode: Type.Enum(['bubblewrap', 'off', 'unavailable']),
          detail: Type.String({ description: 'How limits are enforced, or why steps are not isolated' }),
        }),
      ),
    }),
    { description: 'Workers alive (heartbeat within 20 s), with labels, load and whether their steps are sandboxed' },
  ),
  warnings: Type.Array(Type.String(), { description: 'What an operator must know, e.g. that steps run without isolation on some worker' }),
  storage: Type.Optional(Nullable(StorageSchema)),
});

export const JenkinsTriggerBody = Type.Object(
  {
    job_name: Type.String({ minLength: 1, maxLength: 1024, description: 'Job name; folders as a/b' }),
    parameters: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 65536 }), { description: 'Build parameters, sent verbatim (form-encoded)' })),
  },
  { additionalProperties: false },
);

export const JenkinsBuildSchema = Type.Object({
  id: Type.Integer(),
  job_name: Type.String(),
  parameters: Type.Record(Type.String(), Type.String()),
  status: Type.Enum(JENKINS_BUILD_STATUSES),
  queue_id: Nullable(Type.Integer()),
  build_number: Nullable(Type.Integer()),
  build_url: Nullable(Type.String()),
  result: Nullable(Type.String()),
  console: Type.String(),
  console_truncated: Type.Boolean(),
  error: Nullable(Type.String()),
  created_at: Type.String(),
  updated_at: Type.String(),
  finished_at: Nullable(Type.String()),
});

export const DeliverySchema = Type.Object({
  id: Type.Integer(),
  provider: Type.Enum(['github', 'gitlab']),
  delivery_id: Type.String(),
  event: Type.String(),
  action: Nullable(Type.String()),
  repository: Nullable(Type.String()),
  ref: Nullable(Type.String()),
  commit: Nullable(Type.String()),
  verdict: Type.Enum(VERDICTS),
  reason: Nullable(Type.String({ description: 'Why it was ignored or rejected (or which matched pipelines could not run)' })),
  runs: Type.Array(Type.Integer()),
  run_results: Type.Array(
    Type.Object({
      id: Type.Integer(),
      number: Type.Integer(),
      pipeline: Type.String(),
      status: Type.String(),
      error_reason: Nullable(Type.String()),
    }),
    { description: "What the delivery's runs came to, for the runs the caller may read (an invalid pipeline file's run says why here)" },
  ),
  received_at: Type.String(),
});

export const DeliveryListQuery = Type.Object(
  {
    ...HistoryPageQuery,
    provider: Type.Optional(Type.Enum(['github', 'gitlab'])),
    verdict: Type.Optional(Type.Enum(VERDICTS)),
    project: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, description: 'Only deliveries that started runs of this project (id)' })),
  },
  { additionalProperties: false },
);

export const RedeliverAnswerSchema = Type.Object({ delivery: DeliverySchema, triggered_runs: Type.Array(Type.Integer()) });
