/**
 * Credential use cases: list, read, create, change, delete. Values are write-only: what this
 * service returns is metadata plus the pipelines that use each credential, never a secret.
 */
import { AppError, conflict, notFound, validationError } from '../domain/errors.js';
import type { Actor } from '../domain/permissions.js';
import type { CredentialKind } from '../domain/credentials.js';
import { usageKey, type Credential, type CredentialFilter, type CredentialsRepository, type PipelineRef } from '../store/credentials-repository.js';
import { prepareSecret } from './credentials/prepare-secret.js';
import type { ProjectAccess } from './projects/project-access.js';
import type { DefaultProject } from './pipelines-service.js';
import { auditDiff } from '../domain/audit.js';
import { entry, type AuditLog, type RecordEvent } from './audit/audit-log.js';
import { credentialAuditView, credentialTarget } from './audit/audit-views.js';

export type CredentialView = Credential & { used_by: PipelineRef[] };

export interface CredentialInput {
  name: string;
  kind: CredentialKind;
  description?: string;
  /** Required on create; on update absent keeps the stored secret, same kind merges these fields. */
  secret?: Record<string, unknown>;
  /** The project (id): on create, omitted means the `default` project; on update, unchanged. */
  project?: number;
}

export class CredentialsService {
  constructor(
    private readonly credentials: CredentialsRepository,
    private readonly access: ProjectAccess,
    private readonly projects: DefaultProject,
    /** Every change is written with its audit event (never a secret value), in one transaction. */
    private readonly audit?: AuditLog,
  ) {}

  /** A change and its audit event in one transaction (without an audit log: the change alone). */
  private change<T>(work: (credentials: CredentialsRepository, record: RecordEvent) => Promise<T>): Promise<T> {
    if (!this.audit) return work(this.credentials, async () => {});
    return this.audit.change((tx, record) => work(this.credentials.in(tx), record));
  }

  /** Metadata of what the actor may read, narrowed by the filter (a `project` the actor cannot read is a 404). */
  async list(
    actor: Actor,
    filter: Omit<CredentialFilter, 'memberId'>,
    page: { limit: number; offset: number },
  ): Promise<{ total: number; items: CredentialView[] }> {
    if (filter.project !== undefined) await this.access.requireReadable(actor, filter.project);
    const { total, items } = await this.credentials.list({ ...filter, ...this.access.readFilter(actor) }, page);
    const usage = items.length > 0 ? await this.credentials.usage() : new Map<string, PipelineRef[]>();
    return { total, items: items.map((c) => ({ ...c, used_by: usage.get(usageKey(c.project_id, c.name)) ?? [] })) };
  }

  async get(actor: Actor, id: number): Promise<CredentialView> {
    return this.withUsage(await this.readable(actor, id));
  }

  async create(actor: Actor, input: CredentialInput): Promise<CredentialView> {
    const projectId = input.project ?? (await this.defaultProject());
    await this.access.require(actor, projectId, 'manage_credentials', {
      what: 'Project',
      createdBy: undefined,
      denied: 'Your role in this project does not allow creating credentials',
    });
    if (input.secret === undefined) throw validationError({ secret: ['This field is required.'] });
    const prepared = await prepareSecret(input.kind, input.secret);
    const created = await this.change(async (credentials, record) => {
      const credential = await credentials.create({ project_id: projectId, name: input.name, description: input.description ?? '', ...prepared }, actor.id);
      if (credential)
        await record(
          entry(actor, 'credential.create', credentialTarget(credential), auditDiff(null, credentialAuditView(credential, true)), credential.project_id),
        );
      return credential;
    });
    if (!created) throw duplicateName(input.name);
    return this.withUsage(created);
  }

  /** PUT: name, kind and description are replaced; the secret as described on CredentialInput. */
  async update(actor: Actor, id: number, input: CredentialInput): Promise<CredentialView> {
    const current = await this.modifiable(actor, id);
    const projectId = input.project ?? current.project_id;
    if (projectId !== current.project_id)
      await this.access.require(actor, projectId, 'manage_credentials', {
        what: 'Project',
        createdBy: undefined,
        denied: 'Your role in that project does not allow adding credentials',
      });
    if (input.kind !== current.kind && input.secret === undefined)
      throw validationError({ secret: [`Changing the kind to ${input.kind} needs the whole secret of that kind.`] });
    const saved = await this.change(async (credentials, record) => {
      const after = await credentials.update(
        id,
        {
          project_id: projectId,
          name: input.name,
          description: input.description ?? '',
          kind: input.kind,
          ...(input.secret ? { secret: input.secret } : {}),
          prepare: prepareSecret,
        },
        actor.id,
      );
      if (after && after !== 'conflict') {
        const diff = auditDiff(credentialAuditView(current), credentialAuditView(after, input.secret !== undefined));
        await record(entry(actor, 'credential.update', credentialTarget(after), diff, after.project_id));
      }
      return after;
    });
    if (saved === 'conflict') throw duplicateName(input.name);
    if (!saved) throw notFound('Credential');
    return this.withUsage(saved);
  }

  /** A credential that pipelines use is kept (409 naming them) unless `force`. */
  async delete(actor: Actor, id: number, force: boolean): Promise<void> {
    const current = await this.modifiable(actor, id);
    const usedBy = (await this.credentials.usage()).get(usageKey(current.project_id, current.name)) ?? [];
    if (usedBy.length > 0 && !force)
      throw new AppError(
        'RESOURCE_CONFLICT',
        `Credential "${current.name}" is used by ${usedBy.map((p) => `"${p.name}"`).join(', ')}; delete with ?force=true to delete it anyway`,
        { used_by: usedBy },
      );
    const deleted = await this.change(async (credentials, record) => {
      if (!(await credentials.delete(id))) return false;
      await record(entry(actor, 'credential.delete', credentialTarget(current), auditDiff(credentialAuditView(current), null), current.project_id));
      return true;
    });
    if (!deleted) throw notFound('Credential');
  }

  /** The credential's metadata if the actor may read it (404 otherwise, as for one that does not exist). */
  private async readable(actor: Actor, id: number): Promise<Credential> {
    const credential = await this.credentials.findById(id);
    if (!credential) throw notFound('Credential');
    await this.access.require(actor, credential.project_id, 'read', { what: 'Credential' });
    return credential;
  }

  private async modifiable(actor: Actor, id: number): Promise<Credential> {
    const current = await this.readable(actor, id);
    await this.access.require(actor, current.project_id, 'manage_credentials', {
      what: 'Credential',
      createdBy: current.created_by?.id ?? null,
      denied: 'Your role in this project does not allow changing this credential (developers change the credentials they created)',
    });
    return current;
  }

  private async defaultProject(): Promise<number> {
    const id = await this.projects.defaultProjectId();
    if (id === null) throw validationError({ project: ['There is no default project: name one.'] });
    return id;
  }

  private async withUsage(credential: Credential): Promise<CredentialView> {
    return { ...credential, used_by: (await this.credentials.usage()).get(usageKey(credential.project_id, credential.name)) ?? [] };
  }
}

const duplicateName = (name: string) => conflict(`A credential named "${name}" already exists`, { name: ['A credential with this name already exists.'] });
