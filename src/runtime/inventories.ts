/**
 * The inventories' parts for one context, made once: the repository, Ansible's parser inside the
 * tool sandbox, and the service the API's routes use.
 */
import type { AppContext } from './context.js';
import { InventoriesRepository } from '../store/inventories-repository.js';
import { InventoriesService } from '../services/inventories/inventories-service.js';
import { AnsibleInventoryParser } from '../services/inventories/inventory-parser.js';
import { makeToolSandbox, type ToolSandbox } from '../services/inventories/tool-sandbox.js';

interface InventoryParts {
  repository: InventoriesRepository;
  service: InventoriesService;
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
  parts = { repository, service, sandbox };
  made.set(ctx, parts);
  return parts;
}
