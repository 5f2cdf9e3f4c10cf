import { Type } from 'typebox';
import { NOTIFICATION_EVENTS, NOTIFICATION_KINDS, SMTP_SECURITY } from '../../domain/notifications.js';
import { Nullable, PageQuery } from './common.js';

const Config = Type.Object(
  {
    url: Type.Optional(Type.String({ maxLength: 2000, description: 'webhook: the http(s) URL the signed JSON is POSTed to (never a cloud metadata address)' })),
    smtp_host: Type.Optional(Type.String({ maxLength: 255, description: 'email: the SMTP server' })),
    smtp_port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'email: default 587 (465 with `tls`)' })),
    smtp_security: Type.Optional(
      Type.Enum(SMTP_SECURITY, {
        description: 'email: `starttls` (default: required), `tls` (TLS from the start), `none` (plain; for a relay on a trusted network)',
      }),
    ),
    smtp_username: Type.Optional(Type.String({ maxLength: 255, description: 'email: the SMTP login; its password is the secret' })),
    from: Type.Optional(Type.String({ maxLength: 320, description: 'email: the sender address' })),
    to: Type.Optional(Type.Array(Type.String({ maxLength: 320 }), { maxItems: 50, description: 'email: the recipients' })),
  },
  { additionalProperties: false, description: "The kind's settings, none of them secret (they are shown)" },
);

export const ChannelBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, description: 'Unique in its project' }),
    project: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 2147483647, description: 'Project id; omitted: the `default` project on create. A channel never moves.' }),
    ),
    kind: Type.Enum(NOTIFICATION_KINDS),
    events: Type.Array(
      Type.Enum(NOTIFICATION_EVENTS, {
        description:
          '`run_failed` (failed, timed out, error), `run_fixed` (the first success after a failure of the pipeline on that branch), `run_succeeded`, `approval_requested` (a run waits at its environment, or a fork’s pull request for a maintainer), `deployment_finished` (a run that deployed has ended)',
      }),
      { minItems: 1, maxItems: 5 },
    ),
    pipelines: Type.Optional(
      Nullable(
        Type.Array(Type.Integer({ minimum: 1, maximum: 2147483647 }), {
          maxItems: 100,
          description: "Pipeline ids of the channel's project; null or absent: every pipeline",
        }),
      ),
    ),
    enabled: Type.Optional(Type.Boolean({ description: 'Default true; a disabled channel is sent nothing' })),
    config: Type.Optional(Config),
    secret: Type.Optional(
      Nullable(
        Type.String({
          maxLength: 2000,
          description:
            'Write-only, never shown: the webhook signing secret (required), the Slack incoming-webhook URL (required), the SMTP password. Omitted on a replace: the stored one is kept (same kind); null: removed.',
        }),
      ),
    ),
  },
  { additionalProperties: false },
);

export const ChannelListQuery = Type.Object(
  { ...PageQuery, project: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, description: 'Only this project (id)' })) },
  { additionalProperties: false },
);

export const ChannelSchema = Type.Object({
  id: Type.Integer(),
  project_id: Type.Integer(),
  name: Type.String(),
  kind: Type.Enum(NOTIFICATION_KINDS),
  config: Config,
  secret_set: Type.Boolean({ description: 'Whether a secret is stored (it is never shown)' }),
  events: Type.Array(Type.Enum(NOTIFICATION_EVENTS)),
  pipelines: Nullable(Type.Array(Type.Integer())),
  enabled: Type.Boolean(),
  created_by: Nullable(Type.Object({ id: Type.Integer(), username: Type.String() })),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export const NotificationDeliverySchema = Type.Object({
  id: Type.Integer(),
  channel_id: Type.Integer(),
  run_id: Nullable(Type.Integer()),
  event: Type.Enum([...NOTIFICATION_EVENTS, 'test']),
  outcome: Type.Enum(['pending', 'delivered', 'failed'], { description: '`pending`: not sent yet, or to be retried at `next_attempt_at`' }),
  attempts: Type.Integer(),
  next_attempt_at: Type.String(),
  last_error: Nullable(Type.String()),
  last_status_code: Nullable(Type.Integer()),
  attempt_log: Type.Array(
    Type.Object({
      attempt: Type.Integer(),
      at: Type.String(),
      duration_ms: Type.Integer(),
      result: Type.Enum(['delivered', 'retry', 'failed']),
      status_code: Nullable(Type.Integer({ description: 'The HTTP status or SMTP reply code; null when there was no answer' })),
      answer: Type.String({ description: "The receiver's answer (the start of it) or why there was none" }),
    }),
  ),
  payload: Type.Record(Type.String(), Type.Unknown(), { description: 'What was sent (a webhook receives it as its JSON body, with `delivery`)' }),
  created_at: Type.String(),
  delivered_at: Nullable(Type.String()),
});
