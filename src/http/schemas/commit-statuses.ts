import { Type } from 'typebox';
import { COMMIT_STATUS_OUTCOMES, FORGES } from '../../domain/commit-status.js';
import { Nullable } from './common.js';

/** One commit status of a run as the run page shows it: what was (or will be) sent, and whether it arrived. */
export const CommitStatusSchema = Type.Object({
  forge: Type.Enum(FORGES),
  repository: Type.String({ description: 'GitHub owner/repo or GitLab project path' }),
  sha: Type.String(),
  context: Type.String({ description: '`ansflow/<pipeline name>` (GitLab: the status `name`)' }),
  state: Type.String({ description: "The forge's state: GitHub pending|success|failure|error, GitLab pending|running|success|failed|canceled" }),
  description: Type.String(),
  target_url: Type.String(),
  outcome: Type.Enum(COMMIT_STATUS_OUTCOMES, {
    description:
      'pending: not sent yet (retried while the forge is down); delivered; superseded: a later state came first, so it was never sent; failed: refused or never sendable (last_error says why)',
  }),
  attempts: Type.Integer(),
  last_error: Nullable(Type.String()),
  last_status_code: Nullable(Type.Integer()),
  created_at: Type.String(),
  delivered_at: Nullable(Type.String()),
  next_attempt_at: Nullable(Type.String({ description: 'When a pending status is tried next' })),
});
