/**
 * Fan-out of inventories' connectivity-check events (the `inventory_check` events of the bus) to
 * WebSocket clients of `/ws/inventories/{id}`. One event-bus subscription per watched inventory
 * (not per client); each event is serialised once and the same bytes go to every client.
 *
 * A joining client subscribes first, then gets one `inventory_feed` message: the feed is in
 * place, with the inventory's latest check as it is shown (its results so far and its tally; null
 * when it was never checked); then the live events. Events that arrive while that read is in
 * flight are held and sent after it (FeedClient), so none is missed; one may repeat a host the
 * latest check already holds, which is why clients merge results by host, and a `running` message
 * about a check the client already saw end is late, not a restart.
 *
 * Messages (docs/websocket.md):
 *   {"type":"inventory_feed","data":{inventory_id, latest: <a check as below, or null>}}
 *   {"type":"inventory_check","data":{inventory_id, check_id, status, host_count, limit, results,
 *     counts, error, at}}
 * A check's start and end are status messages (never dropped; an end carries `counts`); each host's
 * answer is one message with that host in `results`, dropped for a client that reads too slowly
 * (its end's `counts` then says more hosts answered than it has: it reads the check over HTTP).
 * The socket stays open while the client watches: checks come and go, the inventory stays.
 */
import type { EventBus, InventoryCheckEvent, Unsubscribe } from '../../events/event-bus.js';
import type { CheckCounts, CheckStatus, HostCheckResult } from '../../domain/inventory-checks.js';
import type { FeedClient } from './feed-client.js';

/** An inventory's check as shown (domain/inventory-checks.ts shownCheck). */
export interface ShownCheck {
  id: number;
  inventory_id: number;
  status: CheckStatus;
  host_count: number;
  limit: string | null;
  results: HostCheckResult[];
  counts: CheckCounts;
  error: string | null;
  finished_at: string | null;
}

export interface InventoryFeedDeps {
  events: Pick<EventBus, 'subscribeInventory'>;
  /** The inventory's latest check as shown, or null when it was never checked. */
  latestCheck(inventoryId: number): Promise<ShownCheck | null>;
}

const encode = (message: unknown) => Buffer.from(JSON.stringify(message));

const eventMessage = (e: InventoryCheckEvent) =>
  encode({
    type: 'inventory_check',
    data: {
      inventory_id: e.inventoryId,
      check_id: e.checkId,
      status: e.status,
      host_count: e.hostCount,
      limit: e.limit,
      results: e.results,
      counts: e.counts,
      error: e.error,
      at: e.at,
    },
  });

const feedMessage = (inventoryId: number, c: ShownCheck | null) =>
  encode({
    type: 'inventory_feed',
    data: {
      inventory_id: inventoryId,
      latest: c && {
        inventory_id: c.inventory_id,
        check_id: c.id,
        status: c.status,
        host_count: c.host_count,
        limit: c.limit,
        results: c.results,
        counts: c.counts,
        error: c.error,
        at: c.finished_at ?? new Date().toISOString(),
      },
    },
  });

class InventoryChannel {
  readonly clients = new Set<FeedClient>();
  private readonly unsubscribe: Unsubscribe;

  constructor(
    private readonly inventoryId: number,
    private readonly deps: InventoryFeedDeps,
  ) {
    this.unsubscribe = deps.events.subscribeInventory(inventoryId, (event) => this.onEvent(event));
  }

  async join(client: FeedClient): Promise<void> {
    this.clients.add(client);
    const latest = await this.deps.latestCheck(this.inventoryId);
    client.sendFirst(() => client.sendStatus(feedMessage(this.inventoryId, latest), false));
    client.release();
  }

  leave(client: FeedClient): boolean {
    this.clients.delete(client);
    if (this.clients.size > 0) return false;
    this.unsubscribe();
    return true;
  }

  private onEvent(event: InventoryCheckEvent): void {
    const data = eventMessage(event);
    // A host's answer may be dropped for a slow client; a start or an end is a status, kept.
    const progress = event.status === 'running' && event.results.length > 0;
    for (const client of this.clients) {
      if (progress) client.sendOptional(data);
      else client.sendStatus(data, false);
    }
  }
}

export class InventoryFeed {
  private readonly channels = new Map<number, InventoryChannel>();

  constructor(private readonly deps: InventoryFeedDeps) {}

  get size(): number {
    let n = 0;
    for (const channel of this.channels.values()) n += channel.clients.size;
    return n;
  }

  /** Watches one inventory's checks (the caller has decided the client may read it). */
  async watch(inventoryId: number, client: FeedClient): Promise<void> {
    let channel = this.channels.get(inventoryId);
    if (!channel) this.channels.set(inventoryId, (channel = new InventoryChannel(inventoryId, this.deps)));
    try {
      await channel.join(client);
    } catch (thrown) {
      this.unwatch(inventoryId, client);
      throw thrown;
    }
  }

  unwatch(inventoryId: number, client: FeedClient): void {
    const channel = this.channels.get(inventoryId);
    if (channel?.leave(client)) this.channels.delete(inventoryId);
  }

  clients(): FeedClient[] {
    return [...this.channels.values()].flatMap((c) => [...c.clients]);
  }
}
