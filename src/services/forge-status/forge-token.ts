/**
 * The token a commit status is sent with: the pipeline's `forge_credential` (a `token` credential
 * of the run's project) when it names one, else the server's ANSFLOW_GITHUB_TOKEN or
 * ANSFLOW_GITLAB_TOKEN. Looked up when the status is sent, so a credential changed meanwhile is
 * the one used. Without any, the status fails saying what to set.
 */
import type { CommitStatus, CommitStatusesRepository } from '../../store/commit-statuses-repository.js';
import type { CredentialsRepository } from '../../store/credentials-repository.js';
import type { ForgeSettings } from './record-run-status.js';

export async function resolveForgeToken(
  deps: { statuses: CommitStatusesRepository; credentials: Pick<CredentialsRepository, 'open'>; settings: ForgeSettings },
  row: Pick<CommitStatus, 'run_id' | 'provider'>,
): Promise<{ token: string } | { problem: string }> {
  const named = await deps.statuses.forgeCredentialOf(row.run_id);
  if (named) {
    const [opened] = await deps.credentials.open([named.name], named.projectId);
    if (!opened) return { problem: `not sent: the pipeline's forge credential "${named.name}" does not exist in its project` };
    if (opened.secret.kind !== 'token') return { problem: `not sent: the forge credential "${named.name}" is a ${opened.secret.kind}, not a token` };
    return { token: opened.secret.value.token };
  }
  const token = row.provider === 'github' ? deps.settings.githubToken : deps.settings.gitlabToken;
  if (token) return { token };
  const variable = row.provider === 'github' ? 'ANSFLOW_GITHUB_TOKEN' : 'ANSFLOW_GITLAB_TOKEN';
  return { problem: `not sent: no ${row.provider === 'github' ? 'GitHub' : 'GitLab'} token (set ${variable} or the pipeline's forge credential)` };
}
