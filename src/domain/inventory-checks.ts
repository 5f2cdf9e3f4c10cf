/**
 * Connectivity checks of stored inventories: Ansible's `ping` then a narrow fact gathering on
 * each selected host (services/inventories/connectivity-check.ts). Per host the answer is
 * `reachable`, `unreachable` (ssh could not connect or log in: the reason is ssh's) or `failed`
 * (connected, but the module failed: no Python, a broken interpreter…), never mixed up.
 *
 * A check of more hosts than the sync limit (ANSFLOW_INVENTORY_CHECK_SYNC_HOSTS) is answered 202
 * and followed by id; smaller ones are answered when done.
 */
import type { ParsedInventory } from './inventories.js';

export const HOST_CHECK_STATUSES = ['reachable', 'unreachable', 'failed'] as const;
export type HostCheckStatus = (typeof HOST_CHECK_STATUSES)[number];

export const CHECK_STATUSES = ['running', 'finished', 'error'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** The facts kept on a host's record: what tells an operator what the host is. */
export type HostFacts = {
  system: string | null;
  os_family: string | null;
  distribution: string | null;
  distribution_version: string | null;
  distribution_release: string | null;
  kernel: string | null;
  architecture: string | null;
  hostname: string | null;
  fqdn: string | null;
  default_ipv4: string | null;
  ipv4_addresses: string[];
  ipv6_addresses: string[];
  python_version: string | null;
  python_executable: string | null;
};

export interface HostCheckResult {
  host: string;
  status: HostCheckStatus;
  /** ssh's reason when unreachable, the module's message when failed; null when reachable. */
  reason: string | null;
  facts: HostFacts | null;
  checked_at: string;
}

/** How long a check may run (its Ansible is stopped then). */
export const CHECK_TIMEOUT_MS = 10 * 60_000;

export type CheckCounts = Record<HostCheckStatus, number>;

export function countResults(results: readonly HostCheckResult[]): CheckCounts {
  const counts = { reachable: 0, unreachable: 0, failed: 0 };
  for (const r of results) counts[r.status]++;
  return counts;
}

interface CheckRecord {
  status: CheckStatus;
  started_at: string;
  error: string | null;
  results: HostCheckResult[];
}

/**
 * A check as it is shown (the API and the live feed): with its tally, and one still `running` a
 * minute past `timeoutMs` (its process died before it ended) as `error`, saying so.
 */
export function shownCheck<T extends CheckRecord>(check: T, timeoutMs: number, now = Date.now()): T & { counts: CheckCounts } {
  const stale = check.status === 'running' && now - Date.parse(check.started_at) > timeoutMs + 60_000;
  return {
    ...check,
    status: stale ? 'error' : check.status,
    error: stale ? 'The check was interrupted (its server stopped before it ended).' : check.error,
    counts: countResults(check.results),
  };
}

/** Longest reason kept (ssh's messages are short; a module's traceback is not). */
export const MAX_CHECK_REASON = 2000;

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The facts that matter out of `ansible_facts` as the setup module returned them. */
export function factsThatMatter(facts: Record<string, unknown>): HostFacts {
  const python = (facts.ansible_python ?? {}) as Record<string, unknown>;
  const ipv4 = (facts.ansible_default_ipv4 ?? {}) as Record<string, unknown>;
  return {
    system: str(facts.ansible_system),
    os_family: str(facts.ansible_os_family),
    distribution: str(facts.ansible_distribution),
    distribution_version: str(facts.ansible_distribution_version),
    distribution_release: str(facts.ansible_distribution_release),
    kernel: str(facts.ansible_kernel),
    architecture: str(facts.ansible_architecture),
    hostname: str(facts.ansible_hostname),
    fqdn: str(facts.ansible_fqdn),
    default_ipv4: str(ipv4.address),
    ipv4_addresses: strings(facts.ansible_all_ipv4_addresses),
    ipv6_addresses: strings(facts.ansible_all_ipv6_addresses),
    python_version: str(facts.ansible_python_version),
    python_executable: str(python.executable),
  };
}

/** What a `limit` may look like (as at launch): hosts or groups, no option, no space. */
export function limitProblem(limit: string): string | null {
  if (limit === '' || limit.startsWith('-') || limit.length > 4096 || /[\s\0]/.test(limit))
    return 'Hosts or groups separated by commas or colons; must not start with "-" nor hold spaces.';
  return null;
}

/**
 * How many hosts a check with this limit touches, to choose between answering at once and 202.
 * Only an estimate for that choice (Ansible itself applies the limit): names, groups and `*`
 * wildcards, with `!` and `&`; a regular expression (`~`) or anything else counts every host.
 */
export function estimateSelected(parsed: ParsedInventory, limit: string | null): number {
  const all = parsed.hosts.map((h) => h.name);
  if (limit === null) return all.length;
  if (limit.includes('~') || limit.includes('[')) return all.length;
  const groupsOf = new Map(parsed.hosts.map((h) => [h.name, new Set(['all', ...h.groups])]));
  const matches = (pattern: string): Set<string> => {
    const re = new RegExp(
      `^${pattern
        .replace(/[.+^${}()|\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    return new Set(all.filter((h) => re.test(h) || [...(groupsOf.get(h) ?? [])].some((g) => re.test(g))));
  };
  const parts = limit.split(/[,:]/).filter((p) => p !== '');
  const positive = parts.filter((p) => !p.startsWith('!') && !p.startsWith('&'));
  // Only exclusions (`!db`): everything but them, as Ansible reads it.
  let selected = new Set<string>(positive.length === 0 ? all : []);
  for (const part of positive) for (const h of matches(part)) selected.add(h);
  for (const part of parts.filter((p) => p.startsWith('&'))) {
    const keep = matches(part.slice(1));
    selected = new Set([...selected].filter((h) => keep.has(h)));
  }
  for (const part of parts.filter((p) => p.startsWith('!'))) for (const h of matches(part.slice(1))) selected.delete(h);
  return selected.size;
}
