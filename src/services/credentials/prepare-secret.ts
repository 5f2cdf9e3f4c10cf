/**
 * Checks a credential's secret against its kind before it is stored, with every problem keyed by
 * the field it names (`secret.private_key`). Messages never quote a value: errors are answered to
 * the client and a secret must not come back, not even in a complaint about it.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { CREDENTIAL_SECRET_SCHEMAS, type CredentialKind, type CredentialSecret } from '../../domain/credentials.js';
import { validationError, type ErrorDetails } from '../../domain/errors.js';
import type { PreparedSecret } from '../../store/credentials-repository.js';
import { inspectSshPrivateKey } from './ssh-key.js';

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = Object.fromEntries(Object.entries(CREDENTIAL_SECRET_SCHEMAS).map(([kind, schema]) => [kind, ajv.compile(schema)])) as Record<
  CredentialKind,
  ReturnType<typeof ajv.compile>
>;

export async function prepareSecret(kind: CredentialKind, raw: Record<string, unknown>): Promise<PreparedSecret> {
  const value = withoutEmptyOptionals(kind, raw);
  const validate = validators[kind];
  if (!validate(value)) throw validationError(schemaDetails(validate.errors ?? []));
  const secret = { kind, value } as CredentialSecret;
  const details: ErrorDetails = {};
  let fingerprint: string | null = null;
  switch (secret.kind) {
    case 'ssh_key': {
      secret.value.private_key = normalizeKeyText(secret.value.private_key);
      const inspected = await inspectSshPrivateKey(secret.value.private_key, secret.value.passphrase);
      if (inspected.ok) fingerprint = inspected.fingerprint;
      else details[`secret.${inspected.field}`] = [inspected.problem];
      const knownHosts = secret.value.known_hosts !== undefined ? knownHostsProblem(secret.value.known_hosts) : null;
      if (knownHosts) details['secret.known_hosts'] = [knownHosts];
      break;
    }
    case 'secret_file':
      if (secret.value.encoding === 'base64' && !isBase64(secret.value.content)) details['secret.content'] = ['Not valid base64 (encoding is base64).'];
      break;
    case 'username_password':
    case 'token':
    case 'ansible_vault_password':
      break;
  }
  if (Object.keys(details).length > 0) throw validationError(details);
  return { secret, fingerprint };
}

/** An empty optional field is an absent one (forms send ''); required fields are left for the schema to judge. */
function withoutEmptyOptionals(kind: CredentialKind, raw: Record<string, unknown>): Record<string, unknown> {
  const required = new Set<string>((CREDENTIAL_SECRET_SCHEMAS[kind] as { required?: string[] }).required ?? []);
  return Object.fromEntries(Object.entries(raw).filter(([field, v]) => required.has(field) || v !== ''));
}

function schemaDetails(errors: ErrorObject[]): ErrorDetails {
  const details: ErrorDetails = {};
  for (const e of errors) {
    const at = e.instancePath.split('/').filter(Boolean).join('.');
    let field = at;
    let message: string;
    if (e.keyword === 'required') {
      field = [at, String(e.params.missingProperty)].filter(Boolean).join('.');
      message = 'This field is required.';
    } else if (e.keyword === 'additionalProperties') {
      field = [at, String(e.params.additionalProperty)].filter(Boolean).join('.');
      message = 'Unknown field for this kind.';
    } else if (e.keyword === 'type') message = `Must be of type ${String(e.params.type)}.`;
    else message = `${(e.message ?? 'Invalid value').replace(/^must/, 'Must')}.`;
    const key = field ? `secret.${field}` : 'secret';
    const list = (details[key] ??= []);
    if (!list.includes(message)) list.push(message);
  }
  return details;
}

/** Keys pasted from Windows or without the final newline are what ssh expects once normalised. */
function normalizeKeyText(key: string): string {
  return key.replace(/\r\n?/g, '\n').trim() + '\n';
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function isBase64(text: string): boolean {
  const compact = text.replace(/\s+/g, '');
  return compact === '' || (compact.length % 4 === 0 && BASE64.test(compact));
}

/**
 * known_hosts lines, read loosely as ssh does: `[marker] hostpatterns keytype base64-key [comment]`,
 * blank lines and `#` comments allowed. Names the first bad line by number, never by content.
 */
export function knownHostsProblem(text: string): string | null {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    if (fields[0]?.startsWith('@')) {
      if (fields[0] !== '@cert-authority' && fields[0] !== '@revoked') return `Line ${i + 1}: unknown marker (only @cert-authority and @revoked exist).`;
      fields.shift();
    }
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key) return `Line ${i + 1} is not a known_hosts entry (host patterns, key type, base64 key).`;
    if (!/^[a-z0-9][a-z0-9@.-]*$/i.test(keyType))
      return `Line ${i + 1}: the key type is not one ssh knows the form of (ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, ...).`;
    if (!BASE64.test(key) || key.length % 4 !== 0) return `Line ${i + 1}: the key is not base64.`;
  }
  return null;
}
