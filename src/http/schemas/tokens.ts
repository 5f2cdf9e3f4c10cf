import { Type } from 'typebox';
import { TOKEN_SCOPES } from '../../domain/token-scopes.js';
import { Nullable } from './common.js';

const Scope = Type.Enum(TOKEN_SCOPES);

export const TokenCreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, description: 'What the token is for (shown in the list)' }),
    scopes: Type.Array(Scope, {
      minItems: 1,
      maxItems: 4,
      description:
        'read: GET only; run: read + start and cancel runs; write: run + create, change, delete; admin: everything. Never more than your role allows.',
    }),
    expires_at: Type.Optional(Type.String({ format: 'date-time', description: 'In the future, at most 366 days ahead; omitted: 90 days from now' })),
  },
  { additionalProperties: false },
);

export const TokenSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  scopes: Type.Array(Scope),
  created_at: Type.String({ format: 'date-time' }),
  expires_at: Type.String({ format: 'date-time' }),
  last_used_at: Nullable(Type.String({ format: 'date-time', description: 'Updated at most once a minute' })),
});

export const CreatedTokenSchema = Type.Object({
  ...TokenSchema.properties,
  token: Type.String({ description: 'The token itself (afp_…): shown only in this answer' }),
});
