/**
 * Connectivity checks of a stored inventory: POST /api/inventories/{id}/check/ (with an optional
 * `limit`) and GET /api/inventories/{id}/checks/{cid}/.
 *
 * Checking connects to the hosts with the inventory's ssh_key credential, so it needs `run` in the
 * inventory's project (as starting a pipeline does); reading a check is reading the inventory.
 * The check is recorded (row and `inventory.check` audit event in one transaction) before Ansible
 * starts. A check of at most `syncHosts` hosts is answered when done; a larger one is answered 202
 * at once and goes on in this process, its results written to the row as hosts answer, so it is
 * followed by id from any process. Each host's answer also replaces its last check on the host's
 * record (what GET …/hosts/ shows).
 *
 * Live: the process running the check publishes its progress on the event bus (an
 * `inventory_check` event when it starts, one per host as soon as Ansible has that host's answer,
 * before the throttled write of the row, and one once the finished row is committed, with the
 * tally), which the gateway's `/ws/inventories/{id}` feed passes to the inventory's readers.
 *
 * A check still `running` long after it should have ended (its process died) is shown as `error`.
 */
import { AppError, notFound, validationError } from '../../domain/errors.js';
import type { Actor } from '../../domain/permissions.js';
import { countResults, estimateSelected, limitProblem, shownCheck, type CheckStatus, type HostCheckResult } from '../../domain/inventory-checks.js';
import type { InventoriesRepository } from '../../store/inventories-repository.js';
import type { InventoryCheck, InventoryChecksRepository } from '../../store/inventory-checks-repository.js';
import type { ProjectAccess } from '../projects/project-access.js';
import type { CredentialSource } from '../runs/credential-source.js';
import { entry, type AuditLog } from '../audit/audit-log.js';
import type { InventoriesService } from './inventories-service.js';
import type { ConnectivityChecker } from './connectivity-check.js';
import type { EventBus, InventoryCheckEvent } from '../../events/event-bus.js';

export interface CheckView extends Omit<InventoryCheck, 'status'> {
  status: CheckStatus;
  counts: Record<HostCheckResult['status'], number>;
}

export interface InventoryChecksDeps {
  inventories: InventoriesService;
  repository: InventoriesRepository;
  checks: InventoryChecksRepository;
  access: ProjectAccess;
  credentials: CredentialSource;
  checker: ConnectivityChecker;
  audit: AuditLog;
  /** Where the check's progress is published for live viewers (the gateway's inventory feed). */
  events: Pick<EventBus, 'publish'>;
  /** More selected hosts than this: 202 and the check goes on (ANSFLOW_INVENTORY_CHECK_SYNC_HOSTS). */
  syncHosts: number;
  /** How long a check may run; past it (and a minute), a check still `running` is shown as interrupted. */
  timeoutMs: number;
  onError?: (error: unknown, checkId: number) => void;
}

/** Writes a running check's progress at most this often. */
const PROGRESS_MS = 500;

export class InventoryChecksService {
  /** Checks running in this process (a test or a shutdown may wait for them). */
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly deps: InventoryChecksDeps) {}

  async start(actor: Actor, inventoryId: number, input: { limit?: string | null }): Promise<{ accepted: boolean; check: CheckView }> {
    const inventory = await this.deps.inventories.readable(actor, inventoryId);
    await this.deps.access.require(actor, inventory.project_id, 'run', {
      what: 'Inventory',
      denied: 'Your role in this project does not allow checking hosts (it needs the right to run pipelines)',
    });
    const limit = input.limit ?? null;
    if (limit !== null) {
      const problem = limitProblem(limit);
      if (problem) throw validationError({ limit: [problem] });
    }
    const parsed = await this.deps.repository.parsed(inventoryId);
    if (!parsed) throw notFound('Inventory');
    const hostCount = estimateSelected(parsed, limit);
    if (hostCount === 0) throw validationError({ limit: [limit === null ? 'The inventory has no hosts.' : `"${limit}" selects no host of this inventory.`] });
    let ssh = null;
    if (inventory.ssh_credential !== null) {
      [ssh] = await this.deps.credentials.open([inventory.ssh_credential], inventory.project_id);
      if (!ssh)
        throw new AppError('RESOURCE_CONFLICT', `The inventory's ssh_credential "${inventory.ssh_credential}" no longer exists in this project`, {
          ssh_credential: ['No such credential in this project.'],
        });
    }
    const id = await this.deps.audit.change(async (tx, record) => {
      const checkId = await this.deps.checks.in(tx).start({ inventoryId, version: inventory.version, limit, hostCount, requestedBy: actor.id });
      await record(
        entry(
          actor,
          'inventory.check',
          { type: 'inventory', id: inventory.id, name: inventory.name },
          { check_id: { after: checkId }, limit: { after: limit }, hosts: { after: hostCount } },
          inventory.project_id,
        ),
      );
      return checkId;
    });

    const work = this.run({ id, inventoryId, hostCount, limit }, { format: inventory.format, content: inventory.content, limit, ssh: ssh ?? null });
    const accepted = hostCount > this.deps.syncHosts;
    if (accepted) {
      const tracked = work.finally(() => this.running.delete(tracked));
      this.running.add(tracked);
    } else await work;
    return { accepted, check: await this.get(actor, inventoryId, id) };
  }

  async get(actor: Actor, inventoryId: number, checkId: number): Promise<CheckView> {
    await this.deps.inventories.readable(actor, inventoryId);
    const check = await this.deps.checks.find(inventoryId, checkId);
    if (!check) throw notFound('Check');
    return this.view(check);
  }

  /** Resolves when every check running in this process has ended. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private view(check: InventoryCheck): CheckView {
    return shownCheck(check, this.deps.timeoutMs);
  }

  /** Runs the check; never throws (its outcome is the row's). */
  private async run(
    check: { id: number; inventoryId: number; hostCount: number; limit: string | null },
    input: Parameters<ConnectivityChecker['check']>[0],
  ): Promise<void> {
    const { id, inventoryId } = check;
    const publish = (fields: Pick<InventoryCheckEvent, 'status' | 'results' | 'counts' | 'error'>) =>
      this.deps.events.publish({
        type: 'inventory_check',
        inventoryId,
        checkId: id,
        hostCount: check.hostCount,
        limit: check.limit,
        ...fields,
        at: new Date().toISOString(),
      });
    publish({ status: 'running', results: [], counts: null, error: null });
    const results: HostCheckResult[] = [];
    let written = 0;
    let lastWrite = 0;
    let error: string | null = null;
    try {
      await this.deps.checker.check({
        ...input,
        onResult: async (result) => {
          results.push(result);
          // Live viewers get each answer at once; the row catches up at most PROGRESS_MS later.
          publish({ status: 'running', results: [result], counts: null, error: null });
          if (Date.now() - lastWrite >= PROGRESS_MS) {
            lastWrite = Date.now();
            await this.deps.checks.progress(id, results);
            await this.deps.repository.saveChecks(inventoryId, results.slice(written));
            written = results.length;
          }
        },
      });
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      this.deps.onError?.(err, id);
    }
    try {
      await this.deps.repository.saveChecks(inventoryId, results.slice(written));
      await this.deps.checks.finish(id, { results: results.sort((a, b) => a.host.localeCompare(b.host)), error });
    } catch (err) {
      this.deps.onError?.(err, id);
      // The row stays `running` until it is shown as interrupted; viewers hear of it now.
      error ??= 'The outcome of the check could not be recorded.';
    }
    // After the row says so: a viewer that reads the check on this event finds it ended.
    publish({ status: error === null ? 'finished' : 'error', results: [], counts: countResults(results), error });
  }
}
