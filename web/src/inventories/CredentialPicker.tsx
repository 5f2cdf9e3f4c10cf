/**
 * Picks credentials of one kind from the inventory's project, by name (what the API stores): a
 * single one (`become_credential`, a username_password) or several (`multiple`:
 * `vault_credentials`, one ansible_vault_password per vault id). A name already set that the list
 * does not hold (deleted, or beyond the first 100) stays selectable, so saving never drops it
 * silently. Rendered as a labelled field with the API's field errors under it.
 */
import { listCredentials } from '../api/endpoints';
import type { CredentialKind } from '../api/types';
import { useAsync } from '../lib/use-async';

type Choice = { multiple?: false; value: string; onChange: (name: string) => void } | { multiple: true; value: string[]; onChange: (names: string[]) => void };

export function CredentialPicker(
  props: {
    label: string;
    kind: CredentialKind;
    project: number | null;
    disabled: boolean;
    testId: string;
    errors?: string[];
  } & Choice,
) {
  const chosen = props.multiple ? props.value : [props.value];
  const list = useAsync(
    (signal) => listCredentials({ kind: props.kind, page_size: 100, ...(props.project !== null && { project: props.project }) }, { signal }),
    [props.kind, props.project],
  );
  const names = [...new Set([...(list.data?.results ?? []).map((c) => c.name), ...chosen.filter((n) => n !== '')])].sort();
  return (
    <label>
      {props.label}
      <select
        className="input mono"
        multiple={props.multiple}
        size={props.multiple ? Math.min(4, Math.max(2, names.length)) : undefined}
        value={props.value}
        onChange={(e) => {
          if (props.multiple) props.onChange([...e.target.selectedOptions].map((o) => o.value));
          else props.onChange(e.target.value);
        }}
        disabled={props.disabled}
        data-testid={props.testId}
      >
        {!props.multiple && <option value="">none</option>}
        {names.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
      {props.errors && <span className="field-error">{props.errors.join(' ')}</span>}
    </label>
  );
}
