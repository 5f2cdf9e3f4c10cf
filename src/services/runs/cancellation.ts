/**
 * One source of truth for stopping a run: one AbortController per run in the process that runs
 * it. Cancel requests reach it through `Cancellations.request`, wherever they come from.
 */
import type { AbortReason } from '../../engine/ports.js';

export interface Cancellations {
  /** Aborts the run if it is executing in a process this adapter reaches. */
  request(runId: number): void;
}

export class LocalCancellations implements Cancellations {
  private readonly controllers = new Map<number, AbortController>();

  register(runId: number): AbortController {
    const controller = new AbortController();
    this.controllers.set(runId, controller);
    return controller;
  }

  unregister(runId: number): void {
    this.controllers.delete(runId);
  }

  request(runId: number): void {
    this.controllers.get(runId)?.abort({ kind: 'cancel' } satisfies AbortReason);
  }

  abortAll(reason: AbortReason): void {
    for (const controller of this.controllers.values()) controller.abort(reason);
  }

  activeRunIds(): number[] {
    return [...this.controllers.keys()];
  }
}
