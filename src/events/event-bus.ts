/**
 * The EventBus port: live run status changes and log chunks, and inventories' connectivity-check
 * progress, for the gateway's WebSockets. Publishing never blocks the run (or the check): adapters
 * deliver asynchronously and drop rather than grow.
 */
import type { RunStatus, StepStatus } from '../domain/status.js';
import type { AnsibleEvent } from '../domain/ansible-events.js';
import type { CheckStatus, HostCheckResult } from '../domain/inventory-checks.js';

export interface RunStatusEvent {
  type: 'run_status';
  runId: number;
  pipelineId: number | null;
  status: RunStatus;
  progress: number;
  currentStep: { id: number; name: string; status: StepStatus; started_at: string | null } | null;
  at: string;
}

export interface LogChunkEvent {
  type: 'log';
  runId: number;
  stepId: number;
  offset: number;
  text: string;
}

/** Structured results of an Ansible step, as the playbook runs (domain/ansible-events.ts). */
export interface AnsibleEventsEvent {
  type: 'ansible';
  runId: number;
  stepId: number;
  events: AnsibleEvent[];
}

export type RunEvent = RunStatusEvent | LogChunkEvent | AnsibleEventsEvent;

/**
 * A connectivity check of an inventory, as it goes (services/inventories/inventory-checks.ts):
 * published when it starts (`running`, no results), as each host answers (`running`, that host's
 * result), and once it has ended and its row says so (`finished` or `error`, with `counts`, the
 * whole check's tally, so a subscriber can tell whether it missed a result).
 */
export interface InventoryCheckEvent {
  type: 'inventory_check';
  inventoryId: number;
  checkId: number;
  status: CheckStatus;
  hostCount: number;
  limit: string | null;
  /** Hosts that answered since the previous event of this check. */
  results: HostCheckResult[];
  /** On the last event only: how many hosts came out reachable, unreachable and failed. */
  counts: Record<HostCheckResult['status'], number> | null;
  error: string | null;
  at: string;
}

/** Every event the bus carries: a run's (by run id) or an inventory's (by inventory id). */
export type BusEvent = RunEvent | InventoryCheckEvent;

export type Unsubscribe = () => void;

export interface EventBus {
  publish(event: BusEvent): void;
  /** Events of one run. */
  subscribeRun(runId: number, handler: (event: RunEvent) => void): Unsubscribe;
  /** Status events of every run (the all-runs feed). */
  subscribeAll(handler: (event: RunStatusEvent) => void): Unsubscribe;
  /** Connectivity-check events of one inventory (never a run's). */
  subscribeInventory(inventoryId: number, handler: (event: InventoryCheckEvent) => void): Unsubscribe;
  close(): Promise<void>;
}

/** Calls a subscriber: its fault must not break the run that published, nor delivery to the others. */
export function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // ignored on purpose: subscribers handle their own errors
  }
}
