/**
 * An inventory's connectivity check as the inventory page follows it live: what the gateway's
 * inventory feed sends (InventoryCheckMessage), the REST answers (POST …/check/, GET …/checks/{id}/)
 * and a fallback read all merge into one view, in whatever order they arrive:
 *   - a newer check replaces an older one; anything about an older one is ignored;
 *   - results merge by host (a later `checked_at` wins), so a repeat changes nothing;
 *   - a check's status only moves forward: once ended, a late `running` message merges its
 *     results and leaves the status alone;
 *   - an ended check's tally is its `counts`: when they count more hosts than the view holds,
 *     results were missed (a slow socket drops hosts' answers) and the page reads the check once.
 */
import type { InventoryCheck, InventoryCheckData, InventoryHost } from '../api/endpoints';

type Result = InventoryCheck['results'][number];
type Counts = InventoryCheck['counts'];

export interface LiveCheck {
  id: number;
  status: InventoryCheck['status'];
  host_count: number;
  limit: string | null;
  /** One per host that answered, in the order they did. */
  results: Result[];
  /** The tally of an ended check (null while it runs, unless a full read said so). */
  counts: Counts | null;
  error: string | null;
}

export const fromCheck = (c: InventoryCheck): LiveCheck => ({
  id: c.id,
  status: c.status,
  host_count: c.host_count,
  limit: c.limit,
  results: c.results,
  counts: c.status === 'running' ? null : c.counts,
  error: c.error,
});

export const fromMessage = (data: InventoryCheckData): LiveCheck => ({
  id: data.check_id,
  status: data.status,
  host_count: data.host_count,
  limit: data.limit,
  results: data.results,
  counts: data.status === 'running' ? null : data.counts,
  error: data.error,
});

export function mergeCheck(current: LiveCheck | null, update: LiveCheck): LiveCheck {
  if (current === null || update.id > current.id) return { ...update, results: mergeResults([], update.results) };
  if (update.id < current.id) return current;
  const ended = current.status !== 'running';
  return {
    ...current,
    status: ended ? current.status : update.status,
    counts: ended ? (current.counts ?? update.counts) : update.counts,
    error: ended ? current.error : update.error,
    results: mergeResults(current.results, update.results),
  };
}

function mergeResults(results: readonly Result[], more: readonly Result[]): Result[] {
  if (more.length === 0) return results as Result[];
  const out = [...results];
  const index = new Map(out.map((r, i) => [r.host, i]));
  for (const r of more) {
    const i = index.get(r.host);
    if (i === undefined) {
      index.set(r.host, out.length);
      out.push(r);
    } else if (r.checked_at > out[i]!.checked_at) out[i] = r;
  }
  return out;
}

/** The tally shown: an ended check's own counts, else what answered so far. */
export function tally(check: LiveCheck): Counts {
  if (check.counts) return check.counts;
  const counts = { reachable: 0, unreachable: 0, failed: 0 };
  for (const r of check.results) counts[r.status]++;
  return counts;
}

/** True when an ended check counts more answers than the view holds: read it once over HTTP. */
export function missedResults(check: LiveCheck): boolean {
  if (check.status === 'running' || !check.counts) return false;
  const { reachable, unreachable, failed } = check.counts;
  return reachable + unreachable + failed > check.results.length;
}

/** The hosts with the live check's answers on their records where those are newer. */
export function withLiveResults(hosts: InventoryHost[], check: LiveCheck | null): InventoryHost[] {
  if (!check || check.results.length === 0) return hosts;
  const live = new Map(check.results.map((r) => [r.host, r]));
  return hosts.map((h) => {
    const r = live.get(h.name);
    if (!r || (h.check && h.check.checked_at >= r.checked_at)) return h;
    const { host: _host, ...result } = r;
    return { ...h, check: result };
  });
}
