/**
 * The inventories' parts for one context, made once: the repository, Ansible's parser inside the
 * tool sandbox, the service the API's routes use, and the connectivity checks.
 */
import type { AppContext } from './context.js';
import { InventoriesRepository } from '../store/inventories-repository.js';
import { InventoriesService } from '../services/inventories/inventories-service.js';
import { AnsibleInventoryParser } from '../services/inventories/inventory-parser.js';
import { makeToolSandbox, type ToolSandbox } from '../services/inventories/tool-sandbox.js';
import { InventoryChecksRepository } from '../store/inventory-checks-repository.js';
import { InventoryChecksService } from '../services/inventories/inventory-checks.js';
import { AnsibleConnectivityChecker } from '../services/inventories/connectivity-check.js';
import { CHECK_TIMEOUT_MS } from '../domain/inventory-checks.js';

interface InventoryParts {
  repository: InventoriesRepository;
  service: InventoriesService;
  checks: InventoryChecksService;
  sandbox: ToolSandbox | { unavailable: string } | null;
}

const made = new WeakMap<AppContext, InventoryParts>();

export function inventoriesOf(ctx: AppContext): InventoryParts {
  let parts = made.get(ctx);
  if (parts) return parts;
  const { config } = ctx;
  const repository = new InventoriesRepository(ctx.db.kysely);
  const sandbox = makeToolSandbox({ enabled: config.sandbox, dataDir: config.dataDir, uid: config.sandboxUid, extraHidden: config.sandboxHide });
  const service = new InventoriesService({
    inventories: repository,
    access: ctx.access,
    projects: ctx.repos.projects,
    credentialKinds: (names, projectId) => ctx.repos.credentials.kindsOf(names, projectId),
    parser: new AnsibleInventoryParser({ sandbox }),
    audit: ctx.audit,
  });
  const checks = new InventoryChecksService({
    inventories: service,
    repository,
    checks: new InventoryChecksRepository(ctx.db.kysely),
    access: ctx.access,
    credentials: ctx.repos.credentials,
    checker: new AnsibleConnectivityChecker({ sandbox, timeoutMs: CHECK_TIMEOUT_MS }),
    audit: ctx.audit,
    events: ctx.events,
    syncHosts: config.inventoryCheckSyncHosts,
    timeoutMs: CHECK_TIMEOUT_MS,
    onError: (err, checkId) => ctx.logger.warn({ err, checkId }, 'an inventory connectivity check failed'),
  });
  parts = { repository, service, checks, sandbox };
  made.set(ctx, parts);
  return parts;
}
