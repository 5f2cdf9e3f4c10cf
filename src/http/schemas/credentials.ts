import { Type } from 'typebox';
import { CREDENTIAL_KINDS, CREDENTIAL_NAME_PATTERN } from '../../domain/credentials.js';
import { Nullable, PageQuery } from './common.js';

const Kind = Type.Enum(CREDENTIAL_KINDS);

/**
 * The secret's fields depend on the kind, so the body only requires an object here and the
 * service checks it against the kind's schema (errors keyed `secret.<field>`).
 */
const Secret = Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), {
  description: [
    'Write-only; never returned. Fields by kind:',
    'ssh_key {private_key, passphrase?, known_hosts?, username?};',
    'username_password {username, password};',
    'token {token, username?};',
    'secret_file {content, encoding? (utf8|base64), filename?};',
    'ansible_vault_password {password, vault_id?}.',
    'On PUT: omit to keep the stored secret; with the same kind, the fields given replace the stored ones (null removes an optional field); a new kind needs the whole secret.',
  ].join(' '),
});

const fields = {
  name: Type.String({ pattern: CREDENTIAL_NAME_PATTERN, description: 'What a step names in `credential:`; unique, case-insensitively' }),
  kind: Kind,
  description: Type.Optional(Type.String({ maxLength: 10000 })),
  project: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 2147483647, description: 'Project id; omitted: the `default` project on create, unchanged on update' }),
  ),
};

export const CredentialCreateBody = Type.Object({ ...fields, secret: Secret }, { additionalProperties: false });
export const CredentialUpdateBody = Type.Object({ ...fields, secret: Type.Optional(Secret) }, { additionalProperties: false });

export const CredentialListQuery = Type.Object(
  {
    ...PageQuery,
    search: Type.Optional(Type.String({ maxLength: 200 })),
    kind: Type.Optional(Kind),
    project: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647, description: 'Only this project (id)' })),
  },
  { additionalProperties: false },
);

export const CredentialDeleteQuery = Type.Object(
  { force: Type.Optional(Type.Boolean({ description: 'Delete even when pipelines use it (their steps then fail to save until changed)' })) },
  { additionalProperties: false },
);

const UserRef = Nullable(Type.Object({ id: Type.Integer(), username: Type.String() }));

export const CredentialSchema = Type.Object({
  id: Type.Integer(),
  project_id: Type.Integer({ description: 'The project it belongs to: only its pipelines may use it' }),
  name: Type.String(),
  kind: Kind,
  description: Type.String(),
  fingerprint: Nullable(Type.String({ description: 'ssh_key: the OpenSSH SHA256 fingerprint of the public key' })),
  created_by: UserRef,
  updated_by: UserRef,
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  used_by: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String() }), { description: 'The pipelines whose steps name this credential' }),
});
