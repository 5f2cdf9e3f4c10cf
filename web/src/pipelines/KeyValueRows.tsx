/** Editable NAME = value rows (run variables, string maps). */
import { FieldErrors } from '../components/FieldErrors';

export interface KeyValueRow {
  key: string;
  value: string;
}

interface KeyValueRowsProps {
  rows: KeyValueRow[];
  onChange: (rows: KeyValueRow[]) => void;
  keyPlaceholder?: string;
  valuePlaceholder?: string;
  idPrefix: string;
  /** Errors per key (e.g. from `variables.NAME`). */
  errors?: Record<string, string[]>;
  errorPathPrefix?: string;
  addLabel?: string;
}

export function KeyValueRows({
  rows,
  onChange,
  keyPlaceholder = 'NAME',
  valuePlaceholder = 'value',
  idPrefix,
  errors,
  errorPathPrefix,
  addLabel = 'Add',
}: KeyValueRowsProps) {
  const update = (index: number, patch: Partial<KeyValueRow>) => onChange(rows.map((r, i) => (i === index ? { ...r, ...patch } : r)));
  return (
    <div className="kv-rows">
      {rows.map((row, index) => (
        <div key={index}>
          <div className="kv-row two">
            <input
              className="input input-sm mono"
              aria-label={`Name ${index + 1}`}
              placeholder={keyPlaceholder}
              value={row.key}
              onChange={(e) => update(index, { key: e.target.value })}
              data-testid={`${idPrefix}-key-${index}`}
              aria-invalid={errors?.[row.key.trim()] ? true : undefined}
            />
            <input
              className="input input-sm"
              aria-label={`Value ${index + 1}`}
              placeholder={valuePlaceholder}
              value={row.value}
              onChange={(e) => update(index, { value: e.target.value })}
              data-testid={`${idPrefix}-value-${index}`}
            />
            <button
              type="button"
              className="btn btn-ghost btn-sm btn-icon"
              aria-label={`Remove ${row.key || 'row'}`}
              onClick={() => onChange(rows.filter((_, i) => i !== index))}
            >
              ✕
            </button>
          </div>
          {errors && <FieldErrors messages={errors[row.key.trim()]} path={`${errorPathPrefix ?? ''}${row.key.trim()}`} />}
        </div>
      ))}
      <div>
        <button type="button" className="btn btn-sm" onClick={() => onChange([...rows, { key: '', value: '' }])} data-testid={`${idPrefix}-add`}>
          + {addLabel}
        </button>
      </div>
    </div>
  );
}
