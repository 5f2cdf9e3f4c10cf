/**
 * Credential use cases: list, read, create, change, delete. Values are write-only: what this
 * service returns is metadata plus the pipelines that use each credential, never a secret.
 */
import { AppError, conflict, notFound, permissionDenied, validationError } from '../domain/errors.js';
import { canCreateCredentials, canModifyCredential, type Actor } from '../domain/roles.js';
import type { CredentialKind } from '../domain/credentials.js';
import type { Credential, CredentialFilter, CredentialsRepository, PipelineRef } from '../store/credentials-repository.js';
import { prepareSecret } from './credentials/prepare-secret.js';

export type CredentialView = Credential & { used_by: PipelineRef[] };

export interface CredentialInput {
  name: string;
  kind: CredentialKind;
  description?: string;
  /** Required on create; on update absent keeps the stored secret, same kind merges these fields. */
  secret?: Record<string, unknown>;
}

export class CredentialsService {
  constructor(private readonly credentials: CredentialsRepository) {}

  async list(filter: CredentialFilter, page: { limit: number; offset: number }): Promise<{ total: number; items: CredentialView[] }> {
    const { total, items } = await this.credentials.list(filter, page);
    const usage = items.length > 0 ? await this.credentials.usage() : new Map<string, PipelineRef[]>();
    return { total, items: items.map((c) => ({ ...c, used_by: usage.get(c.name.toLowerCase()) ?? [] })) };
  }

  async get(id: number): Promise<CredentialView> {
    return this.withUsage(await this.find(id));
  }

  async create(actor: Actor, input: CredentialInput): Promise<CredentialView> {
    if (!canCreateCredentials(actor)) throw permissionDenied('Viewers cannot create credentials');
    if (input.secret === undefined) throw validationError({ secret: ['This field is required.'] });
    const prepared = await prepareSecret(input.kind, input.secret);
    const created = await this.credentials.create({ name: input.name, description: input.description ?? '', ...prepared }, actor.id);
    if (!created) throw duplicateName(input.name);
    return this.withUsage(created);
  }

  /** PUT: name, kind and description are replaced; the secret as described on CredentialInput. */
  async update(actor: Actor, id: number, input: CredentialInput): Promise<CredentialView> {
    const current = await this.modifiable(actor, id);
    if (input.kind !== current.kind && input.secret === undefined)
      throw validationError({ secret: [`Changing the kind to ${input.kind} needs the whole secret of that kind.`] });
    const saved = await this.credentials.update(
      id,
      { name: input.name, description: input.description ?? '', kind: input.kind, ...(input.secret ? { secret: input.secret } : {}), prepare: prepareSecret },
      actor.id,
    );
    if (saved === 'conflict') throw duplicateName(input.name);
    if (!saved) throw notFound('Credential');
    return this.withUsage(saved);
  }

  /** A credential that pipelines use is kept (409 naming them) unless `force`. */
  async delete(actor: Actor, id: number, force: boolean): Promise<void> {
    const current = await this.modifiable(actor, id);
    const usedBy = (await this.credentials.usage()).get(current.name.toLowerCase()) ?? [];
    if (usedBy.length > 0 && !force)
      throw new AppError(
        'RESOURCE_CONFLICT',
        `Credential "${current.name}" is used by ${usedBy.map((p) => `"${p.name}"`).join(', ')}; delete with ?force=true to delete it anyway`,
        { used_by: usedBy },
      );
    if (!(await this.credentials.delete(id))) throw notFound('Credential');
  }

  private async find(id: number): Promise<Credential> {
    const credential = await this.credentials.findById(id);
    if (!credential) throw notFound('Credential');
    return credential;
  }

  private async modifiable(actor: Actor, id: number): Promise<Credential> {
    const current = await this.find(id);
    if (!canModifyCredential(actor, current.created_by?.id ?? null))
      throw permissionDenied(actor.role === 'viewer' ? 'Viewers cannot change credentials' : 'You can only change credentials you created');
    return current;
  }

  private async withUsage(credential: Credential): Promise<CredentialView> {
    return { ...credential, used_by: (await this.credentials.usage()).get(credential.name.toLowerCase()) ?? [] };
  }
}

const duplicateName = (name: string) => conflict(`A credential named "${name}" already exists`, { name: ['A credential with this name already exists.'] });
