/**
 * Continuous delivery's parts for one context (issue 13): environments and their approval gates,
 * made by the composition root (context.ts) because triggering a run needs the gates; and the
 * loop every API process runs (the gate sweeper: approval timeouts, wait timers, deployment queues).
 */
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { EnvironmentsRepository } from '../store/environments-repository.js';
import { ApprovalGatesRepository } from '../store/approval-gates-repository.js';
import type { RunsRepository } from '../store/runs-repository.js';
import { ApprovalGates } from '../services/deployments/approval-gates.js';
import { EnvironmentsService } from '../services/deployments/environments-service.js';
import type { ProjectAccess } from '../services/projects/project-access.js';
import type { AuditLog } from '../services/audit/audit-log.js';
import type { EventBus } from '../events/event-bus.js';
import type { JobQueue } from '../queue/job-queue.js';
import type { DefaultProject } from '../services/pipelines-service.js';
import { PeriodicTask } from '../services/deployments/periodic-task.js';

export interface Delivery {
  environments: EnvironmentsService;
  gates: ApprovalGates;
  repos: { environments: EnvironmentsRepository; gates: ApprovalGatesRepository };
}

export function createDelivery(parts: {
  db: Kysely<Database>;
  runs: RunsRepository;
  access: ProjectAccess;
  audit: AuditLog;
  events: EventBus;
  queue: JobQueue;
  projects: DefaultProject;
  users: { findByUsername(username: string): Promise<unknown> };
}): Delivery {
  const repos = { environments: new EnvironmentsRepository(parts.db), gates: new ApprovalGatesRepository(parts.db) };
  const gates = new ApprovalGates({ ...parts, gates: repos.gates, environments: repos.environments });
  const environments = new EnvironmentsService({ ...parts, environments: repos.environments, gates: repos.gates });
  return { environments, gates, repos };
}

/** How often each API process looks at waiting runs (timeouts, timers and queues are this exact). */
export const GATE_SWEEP_MS = 1000;

/** The loops of an API process; several processes run them side by side (every move is guarded). */
export function startDeliveryLoops(delivery: Delivery, logger: Logger): { stop(): Promise<void> } {
  const gates = new PeriodicTask(
    GATE_SWEEP_MS,
    () => delivery.gates.sweep(),
    (error) => logger.warn({ err: error }, 'gate sweep failed'),
  );
  gates.start();
  return {
    stop: async () => {
      await gates.stop();
    },
  };
}
