/**
 * Stored Ansible inventories: a project's hosts, their groups and variables, as INI or YAML text
 * that Ansible itself parses (services/inventories/inventory-parser.ts; never a parser of ours).
 *
 * An inventory may name the project's credentials it connects with: an `ssh_key` for the SSH
 * connection, a `username_password` for `become`, and `ansible_vault_password` credentials (one
 * per vault id). A step that uses the inventory gets them unless it names its own.
 */
export const INVENTORY_FORMATS = ['ini', 'yaml'] as const;
export type InventoryFormat = (typeof INVENTORY_FORMATS)[number];

/** What a step writes in `inventory_name`; as credential names. */
export const INVENTORY_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$';

/** The largest inventory text accepted (a generous 1 MiB; 10 000 hosts of INI fit in it). */
export const MAX_INVENTORY_BYTES = 1024 * 1024;

/** Vault password credentials an inventory or a step may name. */
export const MAX_VAULT_CREDENTIALS = 10;

/** One host as Ansible sees it after parsing: its groups (direct and inherited) and variables. */
export interface InventoryHost {
  name: string;
  /** Every group the host is in, through children too, without `all`; sorted. */
  groups: string[];
  vars: Record<string, unknown>;
}

export interface InventoryGroup {
  name: string;
  /** Hosts listed in the group itself (not through children). */
  hosts: string[];
  children: string[];
}

/** What `ansible-inventory --list` says of an inventory, normalised (host variables include those its groups give it). */
export interface ParsedInventory {
  hosts: InventoryHost[];
  groups: InventoryGroup[];
}

/**
 * Variable names whose values are secrets: shown as `******` in every answer. Ansible's own
 * connection and become passwords, and anything named like a password, secret, token or key
 * (a key *file* is a path, not a secret, and stays visible).
 */
const SECRET_NAME = /(pass(word|wd|phrase)?$|password|secret|token|api_?key|private_key$|_pass_|vault)/i;

export const MASK = '******';

export function isSecretVariable(name: string): boolean {
  return SECRET_NAME.test(name) && !/_file$/i.test(name);
}

/** The variables with every secret-looking value (at any depth under a secret name) masked. */
export function maskVariables(vars: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(vars)) {
    if (isSecretVariable(name)) out[name] = MASK;
    else if (value !== null && typeof value === 'object' && !Array.isArray(value)) out[name] = maskVariables(value as Record<string, unknown>);
    else out[name] = value;
  }
  return out;
}

/** The `ansible-inventory --list` JSON as hosts and groups (groups inherited through children). */
export function normaliseInventoryList(list: Record<string, unknown>): ParsedInventory {
  const meta = (list._meta ?? {}) as { hostvars?: Record<string, Record<string, unknown>> };
  const hostvars = meta.hostvars ?? {};
  const groups = new Map<string, InventoryGroup>();
  for (const [name, raw] of Object.entries(list)) {
    if (name === '_meta') continue;
    const g = (raw ?? {}) as { hosts?: unknown; children?: unknown };
    groups.set(name, {
      name,
      hosts: Array.isArray(g.hosts) ? g.hosts.map(String) : [],
      children: Array.isArray(g.children) ? g.children.map(String) : [],
    });
  }
  // A host is in a group when listed there or in one of its children, at any depth.
  const memberOf = new Map<string, Set<string>>();
  const visit = (group: string, into: string, seen: Set<string>) => {
    if (seen.has(group)) return;
    seen.add(group);
    const g = groups.get(group);
    if (!g) return;
    for (const host of g.hosts) {
      const set = memberOf.get(host) ?? new Set<string>();
      set.add(into);
      memberOf.set(host, set);
    }
    for (const child of g.children) visit(child, into, seen);
  };
  for (const name of groups.keys()) if (name !== 'all') visit(name, name, new Set());
  const hostNames = new Set<string>([...Object.keys(hostvars), ...memberOf.keys()]);
  for (const g of groups.values()) for (const h of g.hosts) hostNames.add(h);
  const hosts = [...hostNames].sort().map((name) => ({
    name,
    groups: [...(memberOf.get(name) ?? [])].filter((g) => g !== 'all').sort(),
    vars: hostvars[name] ?? {},
  }));
  return { hosts, groups: [...groups.values()].sort((a, b) => a.name.localeCompare(b.name)) };
}

/** A stored inventory as a run receives it (RunSpec.inventories): the text and the credentials it names. */
export interface ResolvedInventory {
  name: string;
  format: InventoryFormat;
  content: string;
  ssh_credential: string | null;
  become_credential: string | null;
  vault_credentials: string[];
}

const names = (value: unknown): string[] => (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string' && v !== '');

/** The stored inventories and the credentials the Ansible steps of a run name in their config. */
export function ansibleStepReferences(steps: ReadonlyArray<{ type: string; config: Record<string, unknown> }>): {
  inventories: string[];
  credentials: string[];
} {
  const inventories = new Set<string>();
  const credentials = new Set<string>();
  for (const step of steps) {
    if (step.type !== 'ansible_playbook') continue;
    for (const n of names(step.config.inventory_name)) inventories.add(n);
    for (const field of ['ssh_credential', 'become_credential', 'vault_credentials']) for (const n of names(step.config[field])) credentials.add(n);
  }
  return { inventories: [...inventories].sort(), credentials: [...credentials].sort() };
}

/** The credential names stored inventories bring with them. */
export function inventoryCredentialNames(inventories: readonly ResolvedInventory[]): string[] {
  return [...new Set(inventories.flatMap((i) => [...names(i.ssh_credential), ...names(i.become_credential), ...i.vault_credentials]))].sort();
}
