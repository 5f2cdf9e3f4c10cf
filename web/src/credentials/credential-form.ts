/**
 * The credential dialog's model: which secret fields each kind has, and the request body a form
 * makes. Secret values are write-only, so an edit starts with every secret field empty and sends
 * only the fields typed in (the server merges them into the stored secret); an empty edit keeps it.
 */
import type { CredentialKind } from '../api/types';

export const CREDENTIAL_KINDS: CredentialKind[] = ['ssh_key', 'username_password', 'token', 'secret_file', 'ansible_vault_password'];

export const KIND_LABELS: Record<CredentialKind, string> = {
  ssh_key: 'SSH key',
  username_password: 'Username and password',
  token: 'Token',
  secret_file: 'Secret file',
  ansible_vault_password: 'Ansible vault password',
};

export interface SecretField {
  name: string;
  label: string;
  input: 'text' | 'password' | 'textarea' | 'select';
  required: boolean;
  hint?: string;
  options?: string[];
  placeholder?: string;
}

export const SECRET_FIELDS: Record<CredentialKind, SecretField[]> = {
  ssh_key: [
    { name: 'private_key', label: 'Private key', input: 'textarea', required: true, placeholder: '-----BEGIN OPENSSH PRIVATE KEY-----' },
    { name: 'passphrase', label: 'Passphrase', input: 'password', required: false, hint: 'Only if the key is encrypted.' },
    {
      name: 'known_hosts',
      label: 'known_hosts',
      input: 'textarea',
      required: false,
      hint: 'Host keys to trust (ssh-keyscan output); an unknown host key fails the step.',
    },
    { name: 'username', label: 'SSH user', input: 'text', required: false, hint: 'For URLs without a user (default: git).' },
  ],
  username_password: [
    { name: 'username', label: 'Username', input: 'text', required: true },
    { name: 'password', label: 'Password', input: 'password', required: true },
  ],
  token: [
    { name: 'token', label: 'Token', input: 'password', required: true },
    {
      name: 'username',
      label: 'Username sent with it',
      input: 'text',
      required: false,
      hint: 'Over https git sends a user name with the token (default: x-access-token).',
    },
  ],
  secret_file: [
    { name: 'content', label: 'Content', input: 'textarea', required: true },
    { name: 'encoding', label: 'Encoding', input: 'select', required: false, options: ['utf8', 'base64'], hint: 'base64 for binary content.' },
    { name: 'filename', label: 'File name', input: 'text', required: false, hint: 'The name the step sees (no folders).' },
  ],
  ansible_vault_password: [
    { name: 'password', label: 'Vault password', input: 'password', required: true },
    { name: 'vault_id', label: 'Vault id', input: 'text', required: false, hint: 'For --vault-id <id>@file; empty for the default id.' },
  ],
};

export interface CredentialForm {
  name: string;
  kind: CredentialKind;
  description: string;
  secret: Record<string, string>;
  /** The project (id); null or absent: the `default` project for a new one, unchanged otherwise. */
  project?: number | null;
}

export interface CredentialBody {
  name: string;
  kind: CredentialKind;
  description: string;
  secret?: Record<string, string>;
  project?: number;
}

export const emptyCredentialForm = (): CredentialForm => ({ name: '', kind: 'ssh_key', description: '', secret: {} });

/** Whether the form, editing a credential of `storedKind` (null: creating), must carry the whole secret. */
export const needsWholeSecret = (form: CredentialForm, storedKind: CredentialKind | null) => storedKind === null || storedKind !== form.kind;

export function credentialBody(form: CredentialForm, storedKind: CredentialKind | null): CredentialBody {
  const body: CredentialBody = { name: form.name.trim(), kind: form.kind, description: form.description };
  if (form.project !== undefined && form.project !== null) body.project = form.project;
  const whole = needsWholeSecret(form, storedKind);
  const secret: Record<string, string> = {};
  for (const field of SECRET_FIELDS[form.kind]) {
    const value = form.secret[field.name] ?? '';
    // Required fields of a whole secret go even when empty, so the server names what is missing.
    if (value !== '' || (whole && field.required)) secret[field.name] = value;
  }
  if (whole || Object.keys(secret).length > 0) body.secret = secret;
  return body;
}
