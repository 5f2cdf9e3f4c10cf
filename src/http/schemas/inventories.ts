import { Type } from 'typebox';
import { CREDENTIAL_NAME_PATTERN } from '../../domain/credentials.js';
import { INVENTORY_FORMATS, INVENTORY_NAME_PATTERN, MAX_INVENTORY_BYTES, MAX_VAULT_CREDENTIALS } from '../../domain/inventories.js';
import { Nullable, PageQuery } from './common.js';

const Format = Type.Enum(INVENTORY_FORMATS);
const CredentialName = Type.String({ pattern: CREDENTIAL_NAME_PATTERN });
const ProjectId = Type.Integer({ minimum: 1, maximum: 2147483647 });

export const InventoryBody = Type.Object(
  {
    name: Type.String({ pattern: INVENTORY_NAME_PATTERN, description: 'What a step names in `inventory_name`; unique in the project, case-insensitively' }),
    description: Type.Optional(Type.String({ maxLength: 10000 })),
    format: Format,
    content: Type.String({
      minLength: 1,
      maxLength: MAX_INVENTORY_BYTES,
      description: "The inventory as Ansible reads it (INI or YAML). Parsed with Ansible's own parser: a syntax error is a 400 naming the line.",
    }),
    project: Type.Optional({ ...ProjectId, description: 'Project id; omitted: the `default` project on create, unchanged on update' }),
    ssh_credential: Type.Optional(Nullable({ ...CredentialName, description: 'An ssh_key credential of the project for the SSH connection' })),
    become_credential: Type.Optional(Nullable({ ...CredentialName, description: 'A username_password credential of the project for `become`' })),
    vault_credentials: Type.Optional(
      Type.Array(CredentialName, { maxItems: MAX_VAULT_CREDENTIALS, description: 'ansible_vault_password credentials of the project (one per vault id)' }),
    ),
  },
  { additionalProperties: false },
);

export const InventoryListQuery = Type.Object(
  {
    ...PageQuery,
    search: Type.Optional(Type.String({ maxLength: 200 })),
    project: Type.Optional({ ...ProjectId, description: 'Only this project (id)' }),
  },
  { additionalProperties: false },
);

const UserRef = Nullable(Type.Object({ id: Type.Integer(), username: Type.String() }));

const connection = {
  ssh_credential: Nullable(Type.String()),
  become_credential: Nullable(Type.String()),
  vault_credentials: Type.Array(Type.String()),
};

export const InventorySchema = Type.Object({
  id: Type.Integer(),
  project_id: Type.Integer(),
  name: Type.String(),
  description: Type.String(),
  format: Format,
  content: Type.String(),
  ...connection,
  version: Type.Integer({ description: 'The number of the latest save (versions count from 1)' }),
  host_count: Type.Integer(),
  created_by: UserRef,
  updated_by: UserRef,
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

export const InventoryVersionSchema = Type.Object({
  version: Type.Integer(),
  format: Format,
  content: Type.String(),
  ...connection,
  created_by: UserRef,
  created_at: Type.String({ format: 'date-time' }),
});

export const VersionParams = Type.Object(
  { id: Type.Integer({ minimum: 1, maximum: 2147483647 }), version: Type.Integer({ minimum: 1, maximum: 2147483647 }) },
  { additionalProperties: false },
);

export const DiffQuery = Type.Object(
  { from: Type.Integer({ minimum: 1, maximum: 2147483647 }), to: Type.Integer({ minimum: 1, maximum: 2147483647 }) },
  { additionalProperties: false },
);

export const DiffSchema = Type.Object({ from: Type.Integer(), to: Type.Integer(), diff: Type.String({ description: 'Unified diff of the content' }) });

export const HostCheckSchema = Type.Object({
  status: Type.Enum(['reachable', 'unreachable', 'failed']),
  reason: Nullable(Type.String()),
  facts: Nullable(Type.Record(Type.String(), Type.Unknown())),
  checked_at: Type.String({ format: 'date-time' }),
});

export const InventoryHostSchema = Type.Object({
  name: Type.String(),
  groups: Type.Array(Type.String()),
  vars: Type.Record(Type.String(), Type.Unknown(), { description: 'Host variables, group variables included; secret-looking values are ******' }),
  check: Nullable(HostCheckSchema),
});

export const CheckBody = Type.Object(
  {
    limit: Type.Optional(
      Nullable(
        Type.String({
          minLength: 1,
          maxLength: 4096,
          description: 'Hosts or groups as in Ansible --limit (commas or colons, ! and & allowed); omitted: every host',
        }),
      ),
    ),
  },
  { additionalProperties: false },
);

export const CheckParams = Type.Object(
  { id: Type.Integer({ minimum: 1, maximum: 2147483647 }), cid: Type.Integer({ minimum: 1, maximum: 2147483647 }) },
  { additionalProperties: false },
);

const HostFactsSchema = Type.Object(
  {
    system: Nullable(Type.String()),
    os_family: Nullable(Type.String()),
    distribution: Nullable(Type.String()),
    distribution_version: Nullable(Type.String()),
    distribution_release: Nullable(Type.String()),
    kernel: Nullable(Type.String()),
    architecture: Nullable(Type.String()),
    hostname: Nullable(Type.String()),
    fqdn: Nullable(Type.String()),
    default_ipv4: Nullable(Type.String()),
    ipv4_addresses: Type.Array(Type.String()),
    ipv6_addresses: Type.Array(Type.String()),
    python_version: Nullable(Type.String()),
    python_executable: Nullable(Type.String()),
  },
  { description: 'The facts that matter, from Ansible fact gathering (OS, distribution, IP addresses, Python)' },
);

export const CheckSchema = Type.Object({
  id: Type.Integer(),
  inventory_id: Type.Integer(),
  inventory_version: Type.Integer({ description: 'The version of the inventory the check ran against' }),
  limit: Nullable(Type.String()),
  status: Type.Enum(['running', 'finished', 'error'], {
    description: 'running until Ansible ended; error: Ansible itself failed or the check was interrupted',
  }),
  host_count: Type.Integer({ description: 'Hosts the limit selects' }),
  results: Type.Array(
    Type.Object({
      host: Type.String(),
      status: Type.Enum(['reachable', 'unreachable', 'failed'], {
        description: "unreachable: ssh could not connect or log in (reason: ssh's); failed: connected but the module failed",
      }),
      reason: Nullable(Type.String()),
      facts: Nullable(HostFactsSchema),
      checked_at: Type.String({ format: 'date-time' }),
    }),
    { description: 'One entry per host that answered so far (sorted by host once finished)' },
  ),
  counts: Type.Object({ reachable: Type.Integer(), unreachable: Type.Integer(), failed: Type.Integer() }),
  error: Nullable(Type.String()),
  requested_by: UserRef,
  started_at: Type.String({ format: 'date-time' }),
  finished_at: Nullable(Type.String({ format: 'date-time' })),
});
