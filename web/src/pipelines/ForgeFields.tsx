/**
 * The pipeline editor's forge settings (issue 11c): auto-cancel of superseded runs, the public
 * status badge with its Markdown snippet, and the token credential commit statuses are sent with.
 */
import { FieldErrors } from '../components/FieldErrors';
import { FormField, fieldAria } from '../components/FormField';
import type { CredentialSummary } from '../api/types';
import type { ErrorMap } from '../forms/pipeline-form-model';

export interface ForgeFieldsProps {
  /** The saved pipeline's id (the badge URL needs it); null while creating one. */
  pipelineId: string | null;
  autoCancel: boolean;
  badgePublic: boolean;
  forgeCredential: string;
  /** Token credentials to choose from; null when the list could not be loaded. */
  credentials: CredentialSummary[] | null;
  errors: ErrorMap;
  onChange: (patch: Partial<{ autoCancel: boolean; badgePublic: boolean; forgeCredential: string }>) => void;
}

/** `[![name](…/badge.svg?branch=main)](…/pipelines/id)`, for a README. */
export function badgeMarkdown(origin: string, pipelineId: string, branch: string): string {
  const query = branch && !branch.includes('*') && !branch.includes(',') ? `?branch=${encodeURIComponent(branch)}` : '';
  return `[![AnsFlow](${origin}/api/pipelines/${pipelineId}/badge.svg${query})](${origin}/pipelines/${pipelineId})`;
}

export function ForgeFields({
  pipelineId,
  autoCancel,
  badgePublic,
  forgeCredential,
  credentials,
  errors,
  onChange,
  branch,
}: ForgeFieldsProps & { branch: string }) {
  const tokens = (credentials ?? []).filter((c) => c.kind === 'token');
  const known = tokens.some((c) => c.name === forgeCredential);
  const credentialHint = "Commit statuses on GitHub/GitLab are sent with this token; none: the server's ANSFLOW_GITHUB_TOKEN / ANSFLOW_GITLAB_TOKEN.";
  return (
    <>
      <div className="field full">
        <label className="check">
          <input
            type="checkbox"
            checked={autoCancel}
            onChange={(e) => onChange({ autoCancel: e.target.checked })}
            aria-describedby="pl-auto-cancel-hint"
            data-testid="editor-auto-cancel"
          />
          Cancel superseded runs
        </label>
        <div className="field-hint" id="pl-auto-cancel-hint">
          A new push to a branch, or a new commit on a pull request, cancels this pipeline&apos;s older queued or running runs for it.
        </div>
        <FieldErrors messages={errors.auto_cancel} path="auto_cancel" />
      </div>
      <FormField id="pl-forge-credential" label="Forge token" hint={credentialHint} errors={errors.forge_credential} errorPath="forge_credential">
        <select
          className="select"
          {...fieldAria('pl-forge-credential', errors.forge_credential, credentialHint)}
          value={forgeCredential}
          onChange={(e) => onChange({ forgeCredential: e.target.value })}
          data-testid="editor-forge-credential"
        >
          <option value="">the server&apos;s token</option>
          {forgeCredential !== '' && !known && (
            <option value={forgeCredential}>
              {forgeCredential}
              {credentials === null ? '' : ' (not found)'}
            </option>
          )}
          {tokens.map((c) => (
            <option key={c.id} value={c.name}>
              {c.name}
            </option>
          ))}
        </select>
      </FormField>
      <div className="field full">
        <label className="check">
          <input
            type="checkbox"
            checked={badgePublic}
            onChange={(e) => onChange({ badgePublic: e.target.checked })}
            aria-describedby="pl-badge-hint"
            data-testid="editor-badge-public"
          />
          Public status badge
        </label>
        <div className="field-hint" id="pl-badge-hint">
          Anyone with the link sees the pipeline&apos;s name and its latest status on a branch (for a README); off: only its project&apos;s members.
        </div>
        {pipelineId !== null && (
          <div className="badge-snippet">
            <img src={`/api/pipelines/${pipelineId}/badge.svg`} alt="" hidden={!badgePublic} />
            <code data-testid="editor-badge-markdown" style={{ wordBreak: 'break-all', display: 'block', marginTop: 6 }}>
              {badgeMarkdown(window.location.origin, pipelineId, branch)}
            </code>
          </div>
        )}
        <FieldErrors messages={errors.badge_public} path="badge_public" />
      </div>
    </>
  );
}
