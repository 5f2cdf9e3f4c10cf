/**
 * What the audit log shows of each kind of object: the API's own redaction (secret variables
 * masked, credentials in repository URLs removed, no credential value, no password or token hash),
 * with secrets wrapped in `Redacted` so that a changed secret still shows as changed.
 */
import { auditDiff, Redacted, sameValue, type AuditDiff, type AuditTarget, type AuditView } from '../../domain/audit.js';
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
 * `auditDiff(pipelineAuditView(before), pipelineAuditView(after))`, without building both whole
 * views: a field enters the two (partial) views only where the stored values differ, since equal
 * stored values give equal shown values (each redaction is a function of its value). An update
 * changes one or two of a pipeline's ~17 fields, and every audited update built and walked both
 * whole views. A unit test holds the two equal.
 */
export function pipelineAuditDiff(before: Pipeline, after: Pipeline): AuditDiff {
  const b: AuditView = {};
  const a: AuditView = {};
  changed(b, a, 'name', before.name, after.name);
  changed(b, a, 'description', before.description, after.description);
  changed(b, a, 'status', before.status, after.status);
  changed(b, a, 'repository_url', before.repository_url, after.repository_url, shownUrl);
  changed(b, a, 'branch', before.branch, after.branch);
  changed(b, a, 'trigger_events', before.trigger_events, after.trigger_events);
  changed(b, a, 'secrets_for_forks', before.secrets_for_forks, after.secrets_for_forks);
  changed(b, a, 'auto_cancel', before.auto_cancel, after.auto_cancel);
  changed(b, a, 'badge_public', before.badge_public, after.badge_public);
  changed(b, a, 'forge_credential', before.forge_credential, after.forge_credential);
  changed(b, a, 'config_path', before.config_path ?? null, after.config_path ?? null);
  changed(b, a, 'repository_credential', before.repository_credential ?? null, after.repository_credential ?? null);
  changed(b, a, 'steps', before.steps, after.steps, redactStepRepositories);
  changed(b, a, 'inputs', before.inputs ?? [], after.inputs ?? []);
  changed(b, a, 'project_id', (before as { project_id?: number }).project_id ?? null, (after as { project_id?: number }).project_id ?? null);
  for (const [name, v] of Object.entries(before.variables)) {
    const w = after.variables[name];
    if (w === undefined) b[`variables.${name}`] = shownVariable(v);
    else if (v.secret !== w.secret || v.value !== w.value) {
      b[`variables.${name}`] = shownVariable(v);
      a[`variables.${name}`] = shownVariable(w);
    }
  }
  for (const [name, w] of Object.entries(after.variables)) if (!Object.hasOwn(before.variables, name)) a[`variables.${name}`] = shownVariable(w);
  return auditDiff(b, a);
}

// Module-level helpers rather than closures made on every call: every audited update runs this.

/** Puts the field into both partial views when its stored values differ, as `shown` shows them. */
function changed<T>(b: AuditView, a: AuditView, key: string, x: T, y: T, shown: (v: T) => unknown = asStored): void {
  if (sameValue(x, y)) return;
  b[key] = shown(x);
  a[key] = shown(y);
}

const asStored = <T>(v: T): unknown => v;
const shownUrl = (u: string | null): string | null => (u === null ? null : redactGitUrl(u));
const shownVariable = (v: { value: string; secret: boolean }): unknown => (v.secret ? new Redacted(v.value) : v.value);

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
