/**
 * What the audit log shows of each kind of object: the API's own redaction (secret variables
 * masked, credentials in repository URLs removed, no credential value, no password or token hash),
 * with secrets wrapped in `Redacted` so that a changed secret still shows as changed.
 */
import { AUDIT_REDACTED, Redacted, sameValue, type AuditDiff, type AuditTarget, type AuditView } from '../../domain/audit.js';
import { redactGitUrl, redactStepRepositories } from '../../domain/git-url.js';
import type { Pipeline } from '../../store/pipelines-repository.js';
import type { Credential } from '../../store/credentials-repository.js';
import type { User } from '../../store/users-repository.js';

export function pipelineAuditView(p: Pipeline): AuditView {
  const view: AuditView = {
    name: p.name,
    description: p.description,
    status: p.status,
    repository_url: p.repository_url === null ? null : redactGitUrl(p.repository_url),
    branch: p.branch,
    trigger_events: p.trigger_events,
    secrets_for_forks: p.secrets_for_forks,
    auto_cancel: p.auto_cancel,
    badge_public: p.badge_public,
    forge_credential: p.forge_credential,
    config_path: p.config_path ?? null,
    repository_credential: p.repository_credential ?? null,
    steps: redactStepRepositories(p.steps),
    inputs: p.inputs ?? [],
    project_id: (p as { project_id?: number }).project_id ?? null,
  };
  for (const [name, v] of Object.entries(p.variables)) view[`variables.${name}`] = v.secret ? new Redacted(v.value) : v.value;
  return view;
}

/**
 * `auditDiff(pipelineAuditView(before), pipelineAuditView(after))`, built in one pass: a field is
 * shown only where its stored values differ (equal stored values give equal shown values, each
 * redaction being a function of its value), and the diff's members are written in the order
 * auditDiff sorts them (the fields' names are fixed, so their order is written out below; every
 * `variables.<name>` sorts after them). An update changes one or two of a pipeline's ~17 fields,
 * and building both views, then walking them again, cost the audited update more than the
 * event's row (issue 16). A unit test holds the two equal, as objects and as written.
 */
export function pipelineAuditDiff(before: Pipeline, after: Pipeline): AuditDiff {
  const diff: AuditDiff = {};
  scalar(diff, 'auto_cancel', before.auto_cancel, after.auto_cancel);
  scalar(diff, 'badge_public', before.badge_public, after.badge_public);
  scalar(diff, 'branch', before.branch, after.branch);
  scalar(diff, 'config_path', before.config_path ?? null, after.config_path ?? null);
  scalar(diff, 'description', before.description, after.description);
  scalar(diff, 'forge_credential', before.forge_credential, after.forge_credential);
  field(diff, 'inputs', before.inputs ?? [], after.inputs ?? []);
  scalar(diff, 'name', before.name, after.name);
  scalar(diff, 'project_id', (before as { project_id?: number }).project_id ?? null, (after as { project_id?: number }).project_id ?? null);
  scalar(diff, 'repository_credential', before.repository_credential ?? null, after.repository_credential ?? null);
  if (before.repository_url !== after.repository_url) field(diff, 'repository_url', before.repository_url, after.repository_url, shownUrl);
  scalar(diff, 'secrets_for_forks', before.secrets_for_forks, after.secrets_for_forks);
  scalar(diff, 'status', before.status, after.status);
  field(diff, 'steps', before.steps, after.steps, redactStepRepositories);
  field(diff, 'trigger_events', before.trigger_events, after.trigger_events);
  const names = changedVariables(before.variables, after.variables);
  if (names === null) return diff;
  for (const name of names.sort()) {
    const v = before.variables[name];
    const w = after.variables[name];
    diff[`variables.${name}`] =
      v === undefined ? { after: shownVariable(w!) } : w === undefined ? { before: shownVariable(v) } : { before: shownVariable(v), after: shownVariable(w) };
  }
  return diff;
}

// Module-level helpers rather than closures made on every call: every audited update runs this.

/**
 * A field held as a string, boolean, integer or null: equal JSON is equality. Compared in line
 * rather than through `sameValue`, which one call site fed every type to.
 */
function scalar(diff: AuditDiff, key: string, x: string | number | boolean | null, y: string | number | boolean | null): void {
  if (x !== y) diff[key] = { before: x, after: y };
}

/** Adds the field to the diff when its stored values differ and, where shown redacted, the shown ones too. */
function field<T>(diff: AuditDiff, key: string, x: T, y: T, shown?: (v: T) => unknown): void {
  if (sameValue(x, y)) return;
  if (shown === undefined) {
    diff[key] = { before: x === undefined ? null : x, after: y === undefined ? null : y };
    return;
  }
  const before = shown(x);
  const after = shown(y);
  // Values that differ only in what redaction removes (a password in a URL) show alike: no change shown.
  if (!sameValue(before, after)) diff[key] = { before, after };
}

type Variables = Pipeline['variables'];

/** The names of the variables added, removed or changed (value or secrecy); null when none. */
function changedVariables(before: Variables, after: Variables): string[] | null {
  let names: string[] | null = null;
  for (const name in before) {
    const v = before[name]!;
    const w = after[name];
    if (w === undefined || v.secret !== w.secret || v.value !== w.value) (names ??= []).push(name);
  }
  for (const name in after) if (!Object.hasOwn(before, name)) (names ??= []).push(name);
  return names;
}

const shownUrl = (u: string | null): string | null => (u === null ? null : redactGitUrl(u));
/** A secret's value never shows: written as `******` (what `Redacted` writes). */
const shownVariable = (v: { value: string; secret: boolean }): unknown => (v.secret ? AUDIT_REDACTED : v.value);

export const pipelineTarget = (p: Pick<Pipeline, 'id' | 'name'>): AuditTarget => ({ type: 'pipeline', id: p.id, name: p.name });

/** `secretChanged`: the request replaced (part of) the secret; its value is never known here. */
export function credentialAuditView(c: Credential, secretChanged = false): AuditView {
  return {
    name: c.name,
    kind: c.kind,
    description: c.description,
    fingerprint: c.fingerprint,
    project_id: (c as { project_id?: number }).project_id ?? null,
    secret: new Redacted(secretChanged ? 'replaced' : 'stored'),
  };
}

export const credentialTarget = (c: Pick<Credential, 'id' | 'name'>): AuditTarget => ({ type: 'credential', id: c.id, name: c.name });

export function userAuditView(u: User): AuditView {
  return { username: u.username, email: u.email, first_name: u.first_name, last_name: u.last_name, role: u.role, is_active: u.is_active };
}

export const userTarget = (u: Pick<User, 'id' | 'username'>): AuditTarget => ({ type: 'user', id: u.id, name: u.username });
