import { Type } from 'typebox';
import { Nullable } from './common.js';

export const ScheduleParams = Type.Object(
  { id: Type.Integer({ minimum: 1, maximum: 2147483647 }), sid: Type.Integer({ minimum: 1, maximum: 2147483647 }) },
  { additionalProperties: false },
);

export const ScheduleBody = Type.Object(
  {
    cron: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'Five fields (minute hour day-of-month month day-of-week) or a nickname (@daily); at most once a minute, and it must fire at all',
    }),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone the expression is read in (default UTC)' })),
    branch: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 255, description: "The branch to run (default null: the pipeline's)" }))),
    variables: Type.Optional(
      Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 65536 }), { description: 'Run variables (plain text; schedules hold no secrets)' }),
    ),
    enabled: Type.Optional(Type.Boolean({ description: 'default true' })),
    catch_up: Type.Optional(
      Type.Boolean({ description: 'A fire time missed while AnsFlow was down: true runs it once when it is back; false (default) skips it, recorded' }),
    ),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);

export const ScheduleSchema = Type.Object({
  id: Type.Integer(),
  pipeline_id: Type.Integer(),
  description: Type.String(),
  cron: Type.String(),
  timezone: Type.String(),
  branch: Nullable(Type.String()),
  variables: Type.Record(Type.String(), Type.String()),
  enabled: Type.Boolean(),
  catch_up: Type.Boolean(),
  next_fire_at: Nullable(Type.String()),
  next_fire_times: Type.Array(Type.String(), { description: 'The next five fire times (UTC instants); empty when disabled' }),
  recent_fires: Type.Array(
    Type.Object({
      fire_at: Type.String(),
      outcome: Type.Enum(['started', 'missed', 'failed']),
      run_id: Nullable(Type.Integer()),
      reason: Nullable(Type.String()),
      created_at: Type.String(),
    }),
    { description: 'The last ten fire times and what each did' },
  ),
  created_by: Nullable(Type.Object({ id: Type.Integer(), username: Type.String() })),
  created_at: Type.String(),
  updated_at: Type.String(),
});
