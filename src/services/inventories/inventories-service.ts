/**
 * Inventory use cases: list, read, create, change (every save is a new version), delete, the
 * versions with a diff between two and restoring one, and the hosts as Ansible parsed them.
 *
 * Permissions are the policy's (domain/permissions.ts): reading is `read`; creating, changing,
 * restoring and deleting are `edit` (maintainers any inventory, developers those they created),
 * as for pipelines: an inventory decides where a pipeline deploys. Every change writes its audit
 * event in the same transaction; the content may hold passwords, so the event says that it
 * changed (and the version), never what it holds.
 */
import { AppError, conflict, notFound, validationError, type ErrorDetails } from '../../domain/errors.js';
import type { Actor } from '../../domain/permissions.js';
import type { CredentialKind } from '../../domain/credentials.js';
import { maskVariables, MAX_INVENTORY_BYTES, MAX_VAULT_CREDENTIALS, type InventoryFormat, type ParsedInventory } from '../../domain/inventories.js';
import { diffLines, unifiedDiff } from '../../domain/line-diff.js';
import { auditDiff, Redacted, type AuditTarget, type AuditView } from '../../domain/audit.js';
import type { HostCheck, Inventory, InventoriesRepository, InventoryFilter, InventoryVersion } from '../../store/inventories-repository.js';
import type { ProjectAccess } from '../projects/project-access.js';
import type { DefaultProject } from '../pipelines-service.js';
import { entry, type AuditLog, type RecordEvent } from '../audit/audit-log.js';
import type { InventoryParser } from './inventory-parser.js';

export interface InventoryInput {
  name: string;
  description?: string;
  format: InventoryFormat;
  content: string;
  /** On create, omitted means the `default` project; on update, unchanged. */
  project?: number;
  ssh_credential?: string | null;
  become_credential?: string | null;
  vault_credentials?: string[];
}

export interface InventoryHostView {
  name: string;
  groups: string[];
  vars: Record<string, unknown>;
  check: Omit<HostCheck, 'host'> | null;
}

/** Which kind each credential field must name. */
const CREDENTIAL_FIELDS: Array<{ field: 'ssh_credential' | 'become_credential' | 'vault_credentials'; kind: CredentialKind }> = [
  { field: 'ssh_credential', kind: 'ssh_key' },
  { field: 'become_credential', kind: 'username_password' },
  { field: 'vault_credentials', kind: 'ansible_vault_password' },
];

export interface InventoriesServiceDeps {
  inventories: InventoriesRepository;
  access: ProjectAccess;
  projects: DefaultProject;
  /** The kinds of the project's credentials with these names (by lower-cased name). */
  credentialKinds(names: readonly string[], projectId: number): Promise<Map<string, CredentialKind>>;
  parser: InventoryParser;
  audit: AuditLog;
}

export class InventoriesService {
  constructor(private readonly deps: InventoriesServiceDeps) {}

  async list(actor: Actor, filter: Omit<InventoryFilter, 'memberId'>, page: { limit: number; offset: number }) {
    if (filter.project !== undefined) await this.deps.access.requireReadable(actor, filter.project);
    return this.deps.inventories.list({ ...filter, ...this.deps.access.readFilter(actor) }, page);
  }

  get(actor: Actor, id: number): Promise<Inventory> {
    return this.readable(actor, id);
  }

  async create(actor: Actor, input: InventoryInput): Promise<Inventory> {
    const projectId = input.project ?? (await this.defaultProject());
    await this.deps.access.require(actor, projectId, 'edit', {
      what: 'Project',
      createdBy: undefined,
      denied: 'Your role in this project does not allow creating inventories',
    });
    const fields = await this.prepare(input, projectId);
    const created = await this.change(async (inventories, record) => {
      const inventory = await inventories.create(fields, actor.id);
      if (inventory) await record(entry(actor, 'inventory.create', target(inventory), auditDiff(null, auditView(inventory)), inventory.project_id));
      return inventory;
    });
    if (!created) throw duplicateName(input.name);
    return created;
  }

  /** PUT: everything is replaced; a new version is written (even when nothing changed: a save is a version). */
  async update(actor: Actor, id: number, input: InventoryInput, action = 'inventory.update'): Promise<Inventory> {
    const current = await this.modifiable(actor, id);
    const projectId = input.project ?? current.project_id;
    if (projectId !== current.project_id)
      await this.deps.access.require(actor, projectId, 'edit', {
        what: 'Project',
        createdBy: undefined,
        denied: 'Your role in that project does not allow adding inventories',
      });
    const fields = await this.prepare(input, projectId);
    const saved = await this.change(async (inventories, record) => {
      const after = await inventories.update(id, fields, actor.id);
      if (after && after !== 'conflict') await record(entry(actor, action, target(after), auditDiff(auditView(current), auditView(after)), after.project_id));
      return after;
    });
    if (saved === 'conflict') throw duplicateName(input.name);
    if (!saved) throw notFound('Inventory');
    return saved;
  }

  /** Refused (409 naming them) while a stored pipeline's Ansible step names the inventory: its next run would fail. */
  async delete(actor: Actor, id: number): Promise<void> {
    const current = await this.modifiable(actor, id);
    const usedBy = await this.deps.inventories.usedBy(current.project_id, current.name);
    if (usedBy.length > 0)
      throw new AppError(
        'RESOURCE_CONFLICT',
        `Inventory "${current.name}" is used by ${usedBy.length === 1 ? 'pipeline' : 'pipelines'} ${usedBy.map((p) => `"${p.name}"`).join(', ')}; change their Ansible steps first`,
        { used_by: usedBy },
      );
    const deleted = await this.change(async (inventories, record) => {
      if (!(await inventories.delete(id))) return false;
      await record(entry(actor, 'inventory.delete', target(current), auditDiff(auditView(current), null), current.project_id));
      return true;
    });
    if (!deleted) throw notFound('Inventory');
  }

  async versions(actor: Actor, id: number): Promise<InventoryVersion[]> {
    await this.readable(actor, id);
    return this.deps.inventories.versions(id);
  }

  async version(actor: Actor, id: number, version: number): Promise<InventoryVersion> {
    await this.readable(actor, id);
    const found = await this.deps.inventories.version(id, version);
    if (!found) throw notFound('Inventory version');
    return found;
  }

  /** The unified diff of the content from one version to another (either order). */
  async diff(actor: Actor, id: number, from: number, to: number): Promise<{ from: number; to: number; diff: string }> {
    await this.readable(actor, id);
    const [a, b] = await Promise.all([this.deps.inventories.version(id, from), this.deps.inventories.version(id, to)]);
    if (!a || !b) throw notFound('Inventory version');
    return { from, to, diff: unifiedDiff(diffLines(a.content, b.content), { from: `version ${from}`, to: `version ${to}` }) };
  }

  /** Saves an old version's content and credentials as the newest version. */
  async restore(actor: Actor, id: number, version: number): Promise<Inventory> {
    const current = await this.modifiable(actor, id);
    const old = await this.deps.inventories.version(id, version);
    if (!old) throw notFound('Inventory version');
    return this.update(
      actor,
      id,
      {
        name: current.name,
        description: current.description,
        format: old.format,
        content: old.content,
        ssh_credential: old.ssh_credential,
        become_credential: old.become_credential,
        vault_credentials: old.vault_credentials,
      },
      'inventory.restore',
    );
  }

  /** Every host with its groups, variables (secret-looking values masked) and last check. */
  async hosts(actor: Actor, id: number): Promise<InventoryHostView[]> {
    await this.readable(actor, id);
    const parsed = await this.deps.inventories.parsed(id);
    if (!parsed) throw notFound('Inventory');
    const checks = await this.deps.inventories.hostChecks(id);
    return parsed.hosts.map((h) => {
      const check = checks.get(h.name);
      return {
        name: h.name,
        groups: h.groups,
        vars: maskVariables(h.vars),
        check: check ? { status: check.status, reason: check.reason, facts: check.facts, checked_at: check.checked_at } : null,
      };
    });
  }

  /** The inventory if the actor may read it (404 otherwise, as for one that does not exist). */
  async readable(actor: Actor, id: number): Promise<Inventory> {
    const inventory = await this.deps.inventories.findById(id);
    if (!inventory) throw notFound('Inventory');
    await this.deps.access.require(actor, inventory.project_id, 'read', { what: 'Inventory' });
    return inventory;
  }

  /** The inventory if the actor may change it (the rules of `edit`). */
  async modifiable(actor: Actor, id: number): Promise<Inventory> {
    const current = await this.readable(actor, id);
    await this.deps.access.require(actor, current.project_id, 'edit', {
      what: 'Inventory',
      createdBy: current.created_by?.id ?? null,
      denied: 'Your role in this project does not allow changing this inventory (developers change the inventories they created)',
    });
    return current;
  }

  /** Checks sizes and credentials, then parses the content with Ansible (400 naming the line). */
  private async prepare(input: InventoryInput, projectId: number) {
    const details: ErrorDetails = {};
    if (Buffer.byteLength(input.content, 'utf8') > MAX_INVENTORY_BYTES) details.content = [`At most ${MAX_INVENTORY_BYTES} bytes.`];
    if (input.content.includes('\u0000')) details.content = ['Must not contain NUL characters.'];
    const vault = [...new Set(input.vault_credentials ?? [])];
    if (vault.length > MAX_VAULT_CREDENTIALS) details.vault_credentials = [`At most ${MAX_VAULT_CREDENTIALS} credentials.`];
    const connection = { ssh_credential: input.ssh_credential ?? null, become_credential: input.become_credential ?? null, vault_credentials: vault };
    const named = [connection.ssh_credential, connection.become_credential, ...vault].filter((n): n is string => typeof n === 'string');
    const kinds = await this.deps.credentialKinds(named, projectId);
    for (const { field, kind } of CREDENTIAL_FIELDS) {
      const value = connection[field];
      const names = Array.isArray(value) ? value : value === null ? [] : [value];
      for (const [i, name] of names.entries()) {
        const key = Array.isArray(value) ? `${field}[${i}]` : field;
        const found = kinds.get(name.toLowerCase());
        if (!found) details[key] = [`No credential named "${name}" in this project.`];
        else if (found !== kind) details[key] = [`Credential "${name}" is a ${found}; this field needs a ${kind}.`];
      }
    }
    if (Object.keys(details).length > 0) throw validationError(details);
    const parsed = await this.deps.parser.parse(input.content, input.format);
    if (!parsed.ok) {
      const where = parsed.line === null ? '' : `line ${parsed.line}: `;
      throw new AppError('VALIDATION_ERROR', `Ansible could not parse the inventory: ${where}${parsed.message}`, {
        content: [`${where}${parsed.message}`],
        ...(parsed.line !== null && { line: parsed.line }),
      });
    }
    return {
      project_id: projectId,
      name: input.name,
      description: input.description ?? '',
      format: input.format,
      content: input.content,
      ...connection,
      parsed: parsed.inventory,
    };
  }

  private change<T>(work: (inventories: InventoriesRepository, record: RecordEvent) => Promise<T>): Promise<T> {
    return this.deps.audit.change((tx, record) => work(this.deps.inventories.in(tx), record));
  }

  private async defaultProject(): Promise<number> {
    const id = await this.deps.projects.defaultProjectId();
    if (id === null) throw validationError({ project: ['There is no default project: name one.'] });
    return id;
  }
}

/** The hosts of a parsed inventory as names (for the check and for `limit` validation). */
export const hostNames = (parsed: ParsedInventory) => parsed.hosts.map((h) => h.name);

const target = (i: Pick<Inventory, 'id' | 'name'>): AuditTarget => ({ type: 'inventory', id: i.id, name: i.name });

function auditView(i: Inventory): AuditView {
  return {
    name: i.name,
    description: i.description,
    format: i.format,
    // The text may hold passwords: the event shows that it changed, never what it holds.
    content: new Redacted(i.content),
    version: i.version,
    host_count: i.host_count,
    ssh_credential: i.ssh_credential,
    become_credential: i.become_credential,
    vault_credentials: i.vault_credentials,
    project_id: i.project_id,
  };
}

const duplicateName = (name: string) =>
  conflict(`An inventory named "${name}" already exists in this project`, { name: ['An inventory with this name already exists.'] });
