/**
 * `ansflow inventory check`: starts a connectivity check and prints each host's answer as it comes,
 * then the tally. It follows the check over the inventory's WebSocket feed (`/ws/inventories/{id}`,
 * the one the web UI uses), opened before the check starts so no answer is missed; it reads the
 * check over HTTP every second only when that feed cannot be opened or drops mid-check (said on
 * stderr), and once at the end if the feed dropped a host's answer (a slow reader; the end's
 * counts say so).
 */
import type { ApiClient } from './api-client.js';
import { CliError } from './cli-error.js';
import { openFeed, type Feed } from './gateway-feed.js';

type HostStatus = 'reachable' | 'unreachable' | 'failed';

interface HostResult {
  host: string;
  status: HostStatus;
  reason: string | null;
  facts: { distribution: string | null; distribution_version: string | null; system: string | null; python_version: string | null } | null;
}

interface Counts {
  reachable: number;
  unreachable: number;
  failed: number;
}

/** A check as `POST …/check/` and `GET …/checks/{cid}/` answer it. */
interface Check {
  id: number;
  status: 'running' | 'finished' | 'error';
  results: HostResult[];
  counts: Counts;
  error: string | null;
}

/** How a check ended: its status, tally and error. */
type Outcome = Pick<Check, 'status' | 'counts' | 'error'>;

/** One line a host, each host once (the feed may repeat one; results are merged by host). */
function hostPrinter(write: (line: string) => void) {
  const printed = new Set<string>();
  return {
    get count() {
      return printed.size;
    },
    print(results: HostResult[]) {
      for (const r of results) {
        if (printed.has(r.host)) continue;
        printed.add(r.host);
        const f = r.facts;
        const detail = f
          ? [[f.distribution ?? f.system, f.distribution_version].filter(Boolean).join(' '), f.python_version && `Python ${f.python_version}`]
              .filter(Boolean)
              .join(', ')
          : (r.reason ?? '').replace(/\s+/g, ' ');
        write(`${r.host}\t${r.status}\t${detail}`);
      }
    },
  };
}

type Printer = ReturnType<typeof hostPrinter>;

export async function checkInventory(api: ApiClient, id: number, limit: string | undefined): Promise<number> {
  const warn = (line: string) => process.stderr.write(`ansflow: ${line}\n`);
  let feed: Feed | null = null;
  try {
    feed = (await openFeed(api, `/ws/inventories/${id}`)).feed;
  } catch (error) {
    warn(`cannot follow the check live over the WebSocket (${(error as Error).message}); reading it every second instead`);
  }
  try {
    const started = (await api.call('POST', `/api/inventories/${id}/check/`, limit === undefined ? {} : { limit })) as Check;
    const printer = hostPrinter((line) => console.log(line));
    printer.print(started.results);
    let outcome: Outcome | null = started.status === 'running' ? null : started;
    if (!outcome && feed) {
      outcome = await followFeed(feed, started.id, printer);
      if (!outcome) warn(`the WebSocket feed ended before the check did (${feed.closeReason()}); reading it every second instead`);
    }
    outcome ??= await poll(api, id, started.id, printer);
    if (outcome.status === 'error') throw new CliError(`the check failed: ${outcome.error ?? 'unknown error'}`);
    const { reachable, unreachable, failed } = outcome.counts;
    // The feed drops a host's answer for a reader that falls behind: the stored check has them all.
    if (printer.count < reachable + unreachable + failed)
      printer.print(((await api.call('GET', `/api/inventories/${id}/checks/${started.id}/`)) as Check).results);
    console.log(`${printer.count} hosts: ${reachable} reachable, ${unreachable} unreachable, ${failed} failed`);
    return unreachable + failed > 0 ? 1 : 0;
  } finally {
    feed?.close();
  }
}

/** The check's messages from the feed until its end; null when the socket closes first. Other checks' messages are skipped. */
async function followFeed(feed: Feed, checkId: number, printer: Printer): Promise<Outcome | null> {
  for (;;) {
    const message = await feed.next();
    if (!message) return null;
    if (message.type !== 'inventory_check' || message.data.check_id !== checkId) continue;
    printer.print(message.data.results as HostResult[]);
    if (message.data.status !== 'running') return message.data as Outcome;
  }
}

/** The check read every second until it ends. */
async function poll(api: ApiClient, id: number, checkId: number, printer: Printer): Promise<Outcome> {
  for (;;) {
    const check = (await api.call('GET', `/api/inventories/${id}/checks/${checkId}/`)) as Check;
    printer.print(check.results);
    if (check.status !== 'running') return check;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
