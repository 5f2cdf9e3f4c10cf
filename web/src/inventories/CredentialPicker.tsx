/**
 * Picks credentials of one kind from the inventory's project, by name (what the API stores): a
 * single one (`become_credential`, a username_password) or several (`vault_credentials`, one
 * ansible_vault_password per vault id). A name already set that the list does not hold (deleted,
 * or beyond the first 100) stays selectable, so saving never drops it silently.
 */
import { listCredentials } from '../api/endpoints';
import type { CredentialKind } from '../api/types';
import { useAsync } from '../lib/use-async';

function useNames(kind: CredentialKind, project: number | null, keep: string[]): string[] {
  const list = useAsync((signal) => listCredentials({ kind, page_size: 100, ...(project !== null && { project }) }, { signal }), [kind, project]);
  const names = (list.data?.results ?? []).map((c) => c.name);
  return [...new Set([...names, ...keep.filter((n) => n !== '')])].sort();
}

export function CredentialSelect(props: {
  kind: CredentialKind;
  project: number | null;
  value: string;
  onChange: (name: string) => void;
  disabled: boolean;
  testId: string;
}) {
  const names = useNames(props.kind, props.project, [props.value]);
  return (
    <select className="input mono" value={props.value} onChange={(e) => props.onChange(e.target.value)} disabled={props.disabled} data-testid={props.testId}>
      <option value="">none</option>
      {names.map((n) => (
        <option key={n} value={n}>
          {n}
        </option>
      ))}
    </select>
  );
}

export function CredentialMultiSelect(props: {
  kind: CredentialKind;
  project: number | null;
  value: string[];
  onChange: (names: string[]) => void;
  disabled: boolean;
  testId: string;
}) {
  const names = useNames(props.kind, props.project, props.value);
  return (
    <select
      className="input mono"
      multiple
      size={Math.min(4, Math.max(2, names.length))}
      value={props.value}
      onChange={(e) => props.onChange([...e.target.selectedOptions].map((o) => o.value))}
      disabled={props.disabled}
      data-testid={props.testId}
    >
      {names.map((n) => (
        <option key={n} value={n}>
          {n}
        </option>
      ))}
    </select>
  );
}
