/**
 * Where the worker gets the opened credentials a run's steps name (the credentials repository),
 * and the stored inventories its Ansible steps name (the inventories repository). Only the names
 * a run's steps use are opened, once per run, just before it executes: the run's stored
 * definition keeps names only, so a credential or inventory changed or deleted after the trigger
 * is used as it is when the run starts, or is missing (the step naming it fails saying so).
 *
 * Credentials named: each step's `credential`, an Ansible step's `ssh_credential`,
 * `become_credential` and `vault_credentials`, and those its stored inventory names.
 */
import { credentialNames, type ResolvedCredential } from '../../domain/credentials.js';
import { ansibleStepReferences, inventoryCredentialNames, type ResolvedInventory } from '../../domain/inventories.js';
import type { RunSpec } from '../../engine/ports.js';
import type { Run } from '../../store/runs-repository.js';

export interface CredentialSource {
  /** The credentials of the project with these names; a name with no credential there is simply absent. */
  open(names: string[], projectId: number): Promise<ResolvedCredential[]>;
}

export interface InventorySource {
  /** The project's inventories with these names; a name with none is absent. */
  open(names: string[], projectId: number): Promise<ResolvedInventory[]>;
}

/** What RunSpec carries about credentials and inventories for this run: the opened ones, or why there are none. */
export async function runCredentials(
  run: Run,
  source: CredentialSource | undefined,
  inventorySource?: InventorySource,
): Promise<Pick<RunSpec, 'credentials' | 'credentialsWithheld' | 'inventories'>> {
  const ansible = ansibleStepReferences(run.definition.steps);
  const stepNames = [...credentialNames(run.definition.steps), ...ansible.credentials];
  if (stepNames.length === 0 && ansible.inventories.length === 0) return {};
  // A fork's pull request runs without them (unless the pipeline opted in when it was triggered);
  // inventories too, whose text may hold connection passwords.
  if (run.secrets_withheld) return { credentialsWithheld: run.secrets_withheld };
  // The run's own project's only (the pipeline's project when it was triggered).
  const inventories = inventorySource && ansible.inventories.length > 0 ? await inventorySource.open(ansible.inventories, run.project_id) : [];
  const names = [...new Set([...stepNames, ...inventoryCredentialNames(inventories)])].sort();
  const opened = source && names.length > 0 ? await source.open(names, run.project_id) : [];
  return {
    credentials: Object.fromEntries(opened.map((c) => [c.name, c])),
    ...(ansible.inventories.length > 0 && { inventories: Object.fromEntries(inventories.map((i) => [i.name, i])) }),
  };
}
