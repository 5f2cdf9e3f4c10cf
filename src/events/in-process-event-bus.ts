import { safely, type EventBus, type RunEvent, type RunStatusEvent, type Unsubscribe } from './event-bus.js';

/** The embedded EventBus: subscribers in this process, called synchronously in publish order. */
export class InProcessEventBus implements EventBus {
  private readonly byRun = new Map<number, Set<(e: RunEvent) => void>>();
  private readonly all = new Set<(e: RunStatusEvent) => void>();

  publish(event: RunEvent): void {
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

  async close(): Promise<void> {
    this.byRun.clear();
    this.all.clear();
  }
}
