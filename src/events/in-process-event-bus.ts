import { safely, type BusEvent, type EventBus, type InventoryCheckEvent, type RunEvent, type RunStatusEvent, type Unsubscribe } from './event-bus.js';

/** The embedded EventBus: subscribers in this process, called synchronously in publish order. */
export class InProcessEventBus implements EventBus {
  private readonly byRun = new Map<number, Set<(e: RunEvent) => void>>();
  private readonly all = new Set<(e: RunStatusEvent) => void>();
  private readonly byInventory = new Map<number, Set<(e: InventoryCheckEvent) => void>>();

  publish(event: BusEvent): void {
    if (event.type === 'inventory_check') {
      for (const handler of this.byInventory.get(event.inventoryId) ?? []) safely(() => handler(event));
      return;
    }
    for (const handler of this.byRun.get(event.runId) ?? []) safely(() => handler(event));
    if (event.type === 'run_status') for (const handler of this.all) safely(() => handler(event));
  }

  subscribeRun(runId: number, handler: (event: RunEvent) => void): Unsubscribe {
    let set = this.byRun.get(runId);
    if (!set) this.byRun.set(runId, (set = new Set()));
    set.add(handler);
    return () => {
      set.delete(handler);
      if (set.size === 0) this.byRun.delete(runId);
    };
  }

  subscribeAll(handler: (event: RunStatusEvent) => void): Unsubscribe {
    this.all.add(handler);
    return () => this.all.delete(handler);
  }

  subscribeInventory(inventoryId: number, handler: (event: InventoryCheckEvent) => void): Unsubscribe {
    let set = this.byInventory.get(inventoryId);
    if (!set) this.byInventory.set(inventoryId, (set = new Set()));
    set.add(handler);
    return () => {
      set.delete(handler);
      if (set.size === 0) this.byInventory.delete(inventoryId);
    };
  }

  async close(): Promise<void> {
    this.byRun.clear();
    this.all.clear();
    this.byInventory.clear();
  }
}
