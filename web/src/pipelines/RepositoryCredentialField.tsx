/**
 * The pipeline's repository credential: what its repository is read with (the pipeline file, what
 * the file includes from the repository, and the file's checkouts of it). Credentials that can
 * authenticate git (ssh key, username and password, token) are offered.
 */
import type { CredentialSummary } from '../api/types';
import { FormField, fieldAria } from '../components/FormField';

const GIT_KINDS = new Set(['ssh_key', 'username_password', 'token']);

export function RepositoryCredentialField({
  value,
  credentials,
  errors,
  onChange,
}: {
  value: string;
  /** The project's credentials; null when the list could not be loaded. */
  credentials: CredentialSummary[] | null;
  errors: string[] | undefined;
  onChange: (name: string) => void;
}) {
  const usable = (credentials ?? []).filter((c) => GIT_KINDS.has(c.kind));
  const known = usable.some((c) => c.name === value);
  const hint =
    "For a private repository: the pipeline file is read, and the file's checkouts of this repository made, with this credential. None: read without one.";
  return (
    <FormField id="pl-repository-credential" label="Repository credential" hint={hint} errors={errors} errorPath="repository_credential">
      <select
        className="select"
        {...fieldAria('pl-repository-credential', errors, hint)}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        data-testid="editor-repository-credential"
      >
        <option value="">none (a public repository)</option>
        {value !== '' && !known && (
          <option value={value}>
            {value}
            {credentials === null ? '' : ' (not found)'}
          </option>
        )}
        {usable.map((c) => (
          <option key={c.id} value={c.name}>
            {c.name} ({c.kind.replace('_', ' ')})
          </option>
        ))}
      </select>
    </FormField>
  );
}
