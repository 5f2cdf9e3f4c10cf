import { Type } from 'typebox';
import { Nullable } from './common.js';

export const AuditQuery = Type.Object(
  {
    actor: Type.Optional(Type.String({ maxLength: 150, description: 'User id or username of who acted' })),
    project: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, description: 'Project id' })),
    target_type: Type.Optional(Type.String({ maxLength: 50, description: 'pipeline, credential, user, token, run, project …' })),
    target_id: Type.Optional(Type.String({ maxLength: 50 })),
    action: Type.Optional(Type.String({ maxLength: 100, description: 'An action (pipeline.update) or a prefix ending in .* (pipeline.*)' })),
    since: Type.Optional(Type.String({ format: 'date-time', description: 'At or after this time' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'Before this time' })),
    cursor: Type.Optional(Type.Integer({ minimum: 1, description: "From the previous page's `next`: events older than this one" })),
    page_size: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    format: Type.Optional(
      Type.Enum(['json', 'jsonl'], { description: 'jsonl: every matching event as JSON lines, streamed (also Accept: application/x-ndjson)' }),
    ),
  },
  { additionalProperties: false },
);

export const AuditEventSchema = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  actor: Nullable(Type.Object({ id: Nullable(Type.Integer()), username: Type.String() })),
  source_ip: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  action: Type.String(),
  target: Type.Object({ type: Type.String(), id: Nullable(Type.String()), name: Nullable(Type.String()) }),
  project_id: Nullable(Type.Integer()),
  diff: Nullable(Type.Record(Type.String(), Type.Object({ before: Type.Optional(Type.Unknown()), after: Type.Optional(Type.Unknown()) }))),
});

export const AuditPageSchema = Type.Object({
  next: Nullable(Type.String({ description: 'The next (older) page, or null' })),
  results: Type.Array(AuditEventSchema),
});
