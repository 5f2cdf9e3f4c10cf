/**
 * The EventBus port: live run status changes and log chunks, for the gateway's WebSockets.
 * Publishing never blocks the run: adapters deliver asynchronously and drop rather than grow.
 */
import type { RunStatus, StepStatus } from '../domain/status.js';
import type { AnsibleEvent } from '../domain/ansible-events.js';

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

export type Unsubscribe = () => void;

export interface EventBus {
  publish(event: RunEvent): void;
  /** Events of one run. */
  subscribeRun(runId: number, handler: (event: RunEvent) => void): Unsubscribe;
  /** Status events of every run (the all-runs feed). */
  subscribeAll(handler: (event: RunStatusEvent) => void): Unsubscribe;
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
