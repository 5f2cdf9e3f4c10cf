/**
 * Starts the commit status outbox in a process that serves the API (each API process runs one;
 * claims keep them from sending a status twice). Run links start at ANSFLOW_PUBLIC_URL, else at
 * this API's own address.
 */
import type { AppContext } from './context.js';
import { CommitStatusOutbox } from '../services/forge-status/commit-status-outbox.js';

export function startCommitStatusOutbox(ctx: AppContext, apiUrl: string): CommitStatusOutbox {
  const { forge } = ctx.config;
  const outbox = new CommitStatusOutbox({
    statuses: ctx.repos.commitStatuses,
    credentials: ctx.repos.credentials,
    events: ctx.events,
    logger: ctx.logger,
    settings: {
      publicUrl: forge.publicUrl ?? apiUrl,
      githubApiUrl: forge.githubApiUrl,
      githubToken: forge.githubToken,
      gitlabApiUrl: forge.gitlabApiUrl,
      gitlabToken: forge.gitlabToken,
    },
  });
  outbox.start();
  return outbox;
}
