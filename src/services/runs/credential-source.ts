/**
 * Where the worker gets the opened credentials a run's steps name (the credentials repository).
 * Only the names a run's steps use are opened, once per run, just before it executes: the run's
 * stored definition keeps names only, so a credential changed or deleted after the trigger is
 * used as it is when the run starts, or is missing (the step naming it fails saying so).
 */
import { credentialNames, type ResolvedCredential } from '../../domain/credentials.js';
import type { RunSpec } from '../../engine/ports.js';
import type { Run } from '../../store/runs-repository.js';

export interface CredentialSource {
  /** The credentials of the project with these names; a name with no credential there is simply absent. */
  open(names: string[], projectId: number): Promise<ResolvedCredential[]>;
}

/** What RunSpec carries about credentials for this run: the opened ones, or why there are none. */
export async function runCredentials(run: Run, source: CredentialSource | undefined): Promise<Pick<RunSpec, 'credentials' | 'credentialsWithheld'>> {
  const names = credentialNames(run.definition.steps);
  if (names.length === 0) return {};
  // A fork's pull request runs without them (unless the pipeline opted in when it was triggered).
  if (run.secrets_withheld) return { credentialsWithheld: run.secrets_withheld };
  // The run's own project's credentials only (the pipeline's project when it was triggered).
  const opened = source ? await source.open(names, run.project_id) : [];
  return { credentials: Object.fromEntries(opened.map((c) => [c.name, c])) };
}
