import { Type } from 'typebox';
import { PROJECT_ROLES } from '../../domain/permissions.js';
import { Nullable, PageQuery } from './common.js';

const ProjectRoleSchema = Type.Enum(PROJECT_ROLES, { description: 'owner > maintainer > developer > viewer (docs/permissions.md)' });

export const ProjectBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]*$', description: 'Unique, case-insensitively' }),
    description: Type.Optional(Type.String({ maxLength: 10000 })),
  },
  { additionalProperties: false },
);

export const ProjectListQuery = Type.Object({ ...PageQuery, search: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false });

export const ProjectSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  description: Type.String(),
  created_by: Nullable(Type.Object({ id: Type.Integer(), username: Type.String() })),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  my_role: Nullable(ProjectRoleSchema),
});

export const MemberParams = Type.Object(
  { id: Type.Integer({ minimum: 1, maximum: 2147483647 }), user_id: Type.Integer({ minimum: 1, maximum: 2147483647 }) },
  { additionalProperties: false },
);

export const MemberAddBody = Type.Object(
  {
    user_id: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, description: 'The user, by id…' })),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 150, description: '…or by username (one of the two)' })),
    role: ProjectRoleSchema,
  },
  { additionalProperties: false },
);
export const MemberRoleBody = Type.Object({ role: ProjectRoleSchema }, { additionalProperties: false });

export const MemberSchema = Type.Object({
  user: Type.Object({ id: Type.Integer(), username: Type.String() }),
  role: ProjectRoleSchema,
  created_at: Type.String({ format: 'date-time' }),
});
