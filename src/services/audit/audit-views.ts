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
  const field = <T>(key: string, x: T, y: T, shown: (v: T) => unknown = (v) => v) => {
    if (sameValue(x, y)) return;
    b[key] = shown(x);
    a[key] = shown(y);
  };
  field('name', before.name, after.name);
  field('description', before.description, after.description);
  field('status', before.status, after.status);
  field('repository_url', before.repository_url, after.repository_url, (u) => (u === null ? null : redactGitUrl(u)));
  field('branch', before.branch, after.branch);
  field('trigger_events', before.trigger_events, after.trigger_events);
  field('secrets_for_forks', before.secrets_for_forks, after.secrets_for_forks);
  field('auto_cancel', before.auto_cancel, after.auto_cancel);
  field('badge_public', before.badge_public, after.badge_public);
  field('forge_credential', before.forge_credential, after.forge_credential);
  field('config_path', before.config_path ?? null, after.config_path ?? null);
  field('repository_credential', before.repository_credential ?? null, after.repository_credential ?? null);
  field('steps', before.steps, after.steps, redactStepRepositories);
  field('inputs', before.inputs ?? [], after.inputs ?? []);
  field('project_id', (before as { project_id?: number }).project_id ?? null, (after as { project_id?: number }).project_id ?? null);
  const variable = (v: { value: string; secret: boolean }) => (v.secret ? new Redacted(v.value) : v.value);
  for (const [name, v] of Object.entries(before.variables)) {
    const w = after.variables[name];
    if (w === undefined) b[`variables.${name}`] = variable(v);
    else if (v.secret !== w.secret || v.value !== w.value) {
      b[`variables.${name}`] = variable(v);
      a[`variables.${name}`] = variable(w);
    }
  }
  for (const [name, w] of Object.entries(after.variables)) if (!Object.hasOwn(before.variables, name)) a[`variables.${name}`] = variable(w);
  return auditDiff(b, a);
}

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
