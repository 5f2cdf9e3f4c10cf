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
import { SchedulesRepository } from '../store/schedules-repository.js';
import { SchedulesService } from '../services/schedules/schedules-service.js';
import { Scheduler } from '../services/schedules/scheduler.js';
import type { PipelinesRepository } from '../store/pipelines-repository.js';
import type { SchedulerDeps } from '../services/schedules/scheduler.js';
import { transactor } from '../store/transaction.js';

export interface Delivery {
  db: Kysely<Database>;
  environments: EnvironmentsService;
  gates: ApprovalGates;
  schedules: SchedulesService;
  repos: { environments: EnvironmentsRepository; gates: ApprovalGatesRepository; schedules: SchedulesRepository };
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
  pipelines: PipelinesRepository;
}): Delivery {
  const repos = {
    environments: new EnvironmentsRepository(parts.db),
    gates: new ApprovalGatesRepository(parts.db),
    schedules: new SchedulesRepository(parts.db),
  };
  const gates = new ApprovalGates({ ...parts, gates: repos.gates, environments: repos.environments });
  const environments = new EnvironmentsService({ ...parts, environments: repos.environments, gates: repos.gates });
  const schedules = new SchedulesService({ schedules: repos.schedules, pipelines: parts.pipelines, access: parts.access, audit: parts.audit });
  return { db: parts.db, environments, gates, schedules, repos };
}

/** How often each API process looks at waiting runs (timeouts, timers and queues are this exact). */
export const GATE_SWEEP_MS = 1000;

/** How often each API process looks for due schedules (a fire time starts within this, plus the run's own start). */
export const SCHEDULER_TICK_MS = 1000;

/**
 * The loops of an API process; several processes run them side by side (every move out of
 * `waiting` is guarded, every fire time claimed in the database).
 */
export function startDeliveryLoops(delivery: Delivery, startRuns: SchedulerDeps['startRuns'], logger: Logger): { stop(): Promise<void> } {
  const gates = new PeriodicTask(
    GATE_SWEEP_MS,
    () => delivery.gates.sweep(),
    (error) => logger.warn({ err: error }, 'gate sweep failed'),
  );
  const scheduler = new Scheduler({ schedules: delivery.repos.schedules, transact: transactor(delivery.db), startRuns });
  const schedules = new PeriodicTask(
    SCHEDULER_TICK_MS,
    () => scheduler.tick(),
    (error) => logger.warn({ err: error }, 'scheduler tick failed'),
  );
  gates.start();
  schedules.start();
  return {
    stop: async () => {
      await Promise.all([gates.stop(), schedules.stop()]);
    },
  };
}
