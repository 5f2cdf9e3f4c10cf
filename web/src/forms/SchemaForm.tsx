/** Inputs generated from a JSON Schema (see schema-form-model.ts for the rules). */
import { FormField, fieldAria } from '../components/FormField';
import type { FieldErrors, FieldValue, FormValues, MapRow, SchemaField } from './schema-form-model';
import { KeyValueRows } from '../pipelines/KeyValueRows';

interface SchemaFormProps {
  fields: SchemaField[];
  values: FormValues;
  onChange: (values: FormValues) => void;
  errors: FieldErrors;
  /** Unique id prefix for inputs (e.g. `step-s3`). */
  idPrefix: string;
  /** API error path prefix (e.g. `steps[1].config`). */
  pathPrefix: string;
}

export function SchemaForm({ fields, values, onChange, errors, idPrefix, pathPrefix }: SchemaFormProps) {
  const set = (name: string, value: FieldValue) => onChange({ ...values, [name]: value });
  return (
    <div className="form-grid">
      {fields.map((field) => {
        const id = `${idPrefix}-${field.name}`;
        const fieldErrors = errors[field.name];
        const value = values[field.name];
        const wide = field.kind === 'textarea' || field.kind === 'json' || field.kind === 'string-map' || field.kind === 'string-list';
        const testId = `step-field-${field.name}`;
        const aria = fieldAria(id, fieldErrors, field.description);
        let input: React.ReactNode;
        switch (field.kind) {
          case 'boolean':
            return (
              <div key={field.name} className={`field ${wide ? 'full' : ''}`}>
                <label className="check" htmlFor={id}>
                  <input type="checkbox" {...aria} checked={value === true} onChange={(e) => set(field.name, e.target.checked)} data-testid={testId} />
                  <span className="field-label">{field.label}</span>
                </label>
                {field.description && (
                  <div className="field-hint" id={`${id}-hint`}>
                    {field.description}
                  </div>
                )}
                {fieldErrors && (
                  <div className="field-error" role="alert" id={`${id}-error`} data-testid="field-error" data-field={`${pathPrefix}.${field.name}`}>
                    {fieldErrors.join(' · ')}
                  </div>
                )}
              </div>
            );
          case 'select':
            input = (
              <select className="select" {...aria} value={String(value ?? '')} onChange={(e) => set(field.name, e.target.value)} data-testid={testId}>
                {!field.required && <option value="">(default)</option>}
                {field.options?.map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </select>
            );
            break;
          case 'textarea':
          case 'json':
            input = (
              <textarea
                className="textarea"
                {...aria}
                rows={field.kind === 'json' ? 4 : 5}
                spellCheck={false}
                value={String(value ?? '')}
                placeholder={field.kind === 'json' ? '{ "key": "value" }' : undefined}
                onChange={(e) => set(field.name, e.target.value)}
                onKeyDown={(e) => {
                  // Ctrl/Cmd+Enter submits the whole form from a multi-line input
                  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) e.currentTarget.form?.requestSubmit();
                }}
                data-testid={testId}
              />
            );
            break;
          case 'string-list':
            input = (
              <textarea
                className="textarea"
                {...aria}
                rows={3}
                spellCheck={false}
                value={String(value ?? '')}
                placeholder="one per line"
                onChange={(e) => set(field.name, e.target.value)}
                data-testid={testId}
              />
            );
            break;
          case 'string-map':
            input = (
              <div data-testid={testId}>
                <KeyValueRows
                  rows={Array.isArray(value) ? (value as MapRow[]) : []}
                  onChange={(rows) => set(field.name, rows)}
                  idPrefix={`${id}`}
                  addLabel="Add entry"
                />
              </div>
            );
            break;
          case 'integer':
          case 'number':
            input = (
              <input
                className="input"
                {...aria}
                inputMode={field.kind === 'integer' ? 'numeric' : 'decimal'}
                value={String(value ?? '')}
                placeholder={field.defaultValue !== undefined ? String(field.defaultValue) : undefined}
                onChange={(e) => set(field.name, e.target.value)}
                data-testid={testId}
              />
            );
            break;
          default:
            input = (
              <input
                className="input"
                {...aria}
                value={String(value ?? '')}
                placeholder={field.placeholder ?? (field.defaultValue !== undefined ? String(field.defaultValue) : undefined)}
                onChange={(e) => set(field.name, e.target.value)}
                data-testid={testId}
                spellCheck={false}
              />
            );
        }
        return (
          <FormField
            key={field.name}
            id={id}
            label={field.label}
            required={field.required}
            hint={field.description}
            errors={fieldErrors}
            errorPath={`${pathPrefix}.${field.name}`}
            className={wide ? 'full' : undefined}
          >
            {input}
          </FormField>
        );
      })}
      {errors[''] && (
        <div className="full field-error" role="alert" data-testid="field-error" data-field={pathPrefix}>
          {errors[''].join(' · ')}
        </div>
      )}
    </div>
  );
}
