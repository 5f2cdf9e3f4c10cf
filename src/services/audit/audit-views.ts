/**
 * What the audit log shows of each kind of object: the API's own redaction (secret variables
 * masked, credentials in repository URLs removed, no credential value, no password or token hash),
 * with secrets wrapped in `Redacted` so that a changed secret still shows as changed.
 */
import { Redacted, type AuditTarget, type AuditView } from '../../domain/audit.js';
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
