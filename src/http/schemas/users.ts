import { Type } from 'typebox';
import { ROLES } from '../../domain/roles.js';

const Role = Type.Enum(ROLES);
const Username = Type.String({ minLength: 1, maxLength: 150, pattern: '^[A-Za-z0-9_.@+-]+$', description: 'Letters, digits and _ . @ + -' });
const Email = Type.String({ maxLength: 254, anyOf: [{ format: 'email' }, { maxLength: 0 }] } as never);

export const UserSchema = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  email: Type.String(),
  first_name: Type.String(),
  last_name: Type.String(),
  is_active: Type.Boolean(),
  date_joined: Type.String({ format: 'date-time' }),
  role: Role,
});

export const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 150 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);
export const LoginResponse = Type.Object({
  access: Type.String(),
  refresh: Type.String(),
  user: Type.Object({ id: Type.Integer(), username: Type.String(), email: Type.String() }),
});
export const RefreshBody = Type.Object({ refresh: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false });
export const TokenPairResponse = Type.Object({ access: Type.String(), refresh: Type.String() });

export const CreateUserBody = Type.Object(
  {
    username: Username,
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    email: Type.Optional(Email),
    first_name: Type.Optional(Type.String({ maxLength: 150 })),
    last_name: Type.Optional(Type.String({ maxLength: 150 })),
    role: Type.Optional(Role),
  },
  { additionalProperties: false },
);

export const UpdateMeBody = Type.Object(
  { email: Type.Optional(Email), first_name: Type.Optional(Type.String({ maxLength: 150 })), last_name: Type.Optional(Type.String({ maxLength: 150 })) },
  { additionalProperties: false },
);

export const UpdateUserBody = Type.Object(
  {
    email: Type.Optional(Email),
    first_name: Type.Optional(Type.String({ maxLength: 150 })),
    last_name: Type.Optional(Type.String({ maxLength: 150 })),
    role: Type.Optional(Role),
    is_active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ChangePasswordBody = Type.Object(
  { current_password: Type.String({ minLength: 1, maxLength: 1024 }), new_password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

export const SetPasswordBody = Type.Object({ new_password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });
