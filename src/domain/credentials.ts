/**
 * Credentials: secrets with a kind, kept apart from pipelines and handed only to the step that
 * names one (`credential: <name>` on the step). Their values are write-only: the API answers
 * metadata (name, kind, fingerprint, who and when, which pipelines use it), never a value.
 *
 * The secret part of each kind is one JSON object, sealed as a whole at rest. The engine receives
 * the opened value in RunSpec.credentials (only those the run's steps name) and materialises it
 * inside the step's sandbox as files or variables (engine/credentials/).
 */
import { Type, type Static } from 'typebox';

export const CREDENTIAL_KINDS = ['ssh_key', 'username_password', 'token', 'secret_file', 'ansible_vault_password'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

/** A credential's name: what a step writes in `credential:`. */
export const CREDENTIAL_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$';

export const SshKeySecretSchema = Type.Object(
  {
    private_key: Type.String({ minLength: 1, maxLength: 16384 }),
    passphrase: Type.Optional(Type.String({ maxLength: 1024 })),
    /** OpenSSH known_hosts lines; an unknown host key fails the step. */
    known_hosts: Type.Optional(Type.String({ maxLength: 65536 })),
    /** The user name for ssh URLs that do not carry one (default: as in the URL, else `git`). */
    username: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
export const UsernamePasswordSecretSchema = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 256 }), password: Type.String({ minLength: 1, maxLength: 4096 }) },
  { additionalProperties: false },
);
export const TokenSecretSchema = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 8192 }),
    /** The user name git sends with the token over https (forges accept any; default `x-access-token`). */
    username: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
export const SecretFileSecretSchema = Type.Object(
  {
    /** The file's content (text; binary content base64-encoded with `encoding: base64`). */
    content: Type.String({ maxLength: 1024 * 1024 }),
    encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')])),
    /** The file name the step sees (no folders). */
    filename: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,100}$' })),
  },
  { additionalProperties: false },
);
export const AnsibleVaultPasswordSecretSchema = Type.Object(
  {
    password: Type.String({ minLength: 1, maxLength: 4096 }),
    /** The vault id this password opens (`--vault-id <id>@file`); none for the default id. */
    vault_id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,100}$' })),
  },
  { additionalProperties: false },
);

export type SshKeySecret = Static<typeof SshKeySecretSchema>;
export type UsernamePasswordSecret = Static<typeof UsernamePasswordSecretSchema>;
export type TokenSecret = Static<typeof TokenSecretSchema>;
export type SecretFileSecret = Static<typeof SecretFileSecretSchema>;
export type AnsibleVaultPasswordSecret = Static<typeof AnsibleVaultPasswordSecretSchema>;

/** The secret part of a credential, by kind. */
export type CredentialSecret =
  | { kind: 'ssh_key'; value: SshKeySecret }
  | { kind: 'username_password'; value: UsernamePasswordSecret }
  | { kind: 'token'; value: TokenSecret }
  | { kind: 'secret_file'; value: SecretFileSecret }
  | { kind: 'ansible_vault_password'; value: AnsibleVaultPasswordSecret };

export const CREDENTIAL_SECRET_SCHEMAS = {
  ssh_key: SshKeySecretSchema,
  username_password: UsernamePasswordSecretSchema,
  token: TokenSecretSchema,
  secret_file: SecretFileSecretSchema,
  ansible_vault_password: AnsibleVaultPasswordSecretSchema,
} as const satisfies Record<CredentialKind, unknown>;

/** A credential as the engine receives it: opened, for one run, only if one of its steps names it. */
export interface ResolvedCredential {
  name: string;
  secret: CredentialSecret;
}

/** Every string of a secret that must never reach a log (masked in all its encodings). */
export function credentialSecretValues(secret: CredentialSecret): string[] {
  switch (secret.kind) {
    case 'ssh_key':
      return [secret.value.private_key, ...(secret.value.passphrase ? [secret.value.passphrase] : [])];
    case 'username_password':
      return [secret.value.password];
    case 'token':
      return [secret.value.token];
    case 'secret_file':
      return secret.value.encoding === 'base64' ? [secret.value.content, Buffer.from(secret.value.content, 'base64').toString('utf8')] : [secret.value.content];
    case 'ansible_vault_password':
      return [secret.value.password];
  }
}

/** The credential names a set of steps uses (step-level `credential`). */
export function credentialNames(steps: ReadonlyArray<{ credential?: string | undefined }>): string[] {
  return [...new Set(steps.map((s) => s.credential).filter((n): n is string => typeof n === 'string' && n !== ''))].sort();
}
