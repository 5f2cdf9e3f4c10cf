/** Pipeline variables: NAME, value, secret flag. Stored secrets show masked and stay unchanged unless retyped. */
import { FieldErrors } from '../../components/FieldErrors';
import { newUid, type EditorVariable } from '../../forms/pipeline-form-model';

interface VariablesEditorProps {
  variables: EditorVariable[];
  onChange: (variables: EditorVariable[]) => void;
  errors: Record<string, string[]>;
}

export function VariablesEditor({ variables, onChange, errors }: VariablesEditorProps) {
  const update = (index: number, patch: Partial<EditorVariable>) => onChange(variables.map((v, i) => (i === index ? { ...v, ...patch } : v)));
  return (
    <div className="kv-rows" data-testid="variables-editor">
      {variables.length === 0 && <p className="faint">No variables. They become environment variables of every step.</p>}
      {variables.map((v, index) => (
        <div key={v.uid}>
          <div className="kv-row">
            <input
              className="input input-sm mono"
              aria-label={`Variable ${index + 1} name`}
              placeholder="NAME"
              value={v.name}
              onChange={(e) => update(index, { name: e.target.value })}
              aria-invalid={errors[v.name.trim()] ? true : undefined}
              data-testid={`variable-name-${index}`}
            />
            <input
              className="input input-sm mono"
              aria-label={`Variable ${index + 1} value`}
              type={v.secret ? 'password' : 'text'}
              autoComplete="off"
              placeholder={v.storedSecret ? '•••••• (unchanged)' : v.secret ? 'secret value' : 'value'}
              value={v.storedSecret ? '' : v.value}
              onChange={(e) => update(index, { value: e.target.value, storedSecret: false })}
              data-testid={`variable-value-${index}`}
            />
            <label className="check" title="Secret values are encrypted, never shown again and masked in logs">
              <input
                type="checkbox"
                checked={v.secret}
                onChange={(e) =>
                  update(index, e.target.checked ? { secret: true } : { secret: false, storedSecret: false, value: v.storedSecret ? '' : v.value })
                }
                data-testid={`variable-secret-${index}`}
              />
              Secret
            </label>
            <button
              type="button"
              className="btn btn-ghost btn-sm btn-icon"
              aria-label={`Remove variable ${v.name || index + 1}`}
              onClick={() => onChange(variables.filter((_, i) => i !== index))}
            >
              ✕
            </button>
          </div>
          <FieldErrors messages={errors[v.name.trim()]} path={`variables.${v.name.trim()}`} />
        </div>
      ))}
      <FieldErrors messages={errors['']} path="variables" />
      <div>
        <button
          type="button"
          className="btn btn-sm"
          onClick={() => onChange([...variables, { uid: newUid('v'), name: '', value: '', secret: false, storedSecret: false }])}
          data-testid="add-variable"
        >
          + Add variable
        </button>
      </div>
    </div>
  );
}
