/** Launch inputs: what a run started by hand asks for (name, type, options, default, required, description). */
import { FieldErrors } from '../../components/FieldErrors';
import { INPUT_TYPES, newUid, type EditorInput } from '../../forms/pipeline-form-model';

interface InputsEditorProps {
  inputs: EditorInput[];
  onChange: (inputs: EditorInput[]) => void;
  /** Errors by canonical path (`inputs[1].default`). */
  errors: Record<string, string[]>;
}

export function InputsEditor({ inputs, onChange, errors }: InputsEditorProps) {
  const update = (index: number, patch: Partial<EditorInput>) => onChange(inputs.map((v, i) => (i === index ? { ...v, ...patch } : v)));
  const at = (i: number, field: string) => errors[`inputs[${i}].${field}`];
  return (
    <div className="stack" data-testid="inputs-editor">
      {inputs.length === 0 && <p className="faint">No inputs. A run started by hand then asks only for the branch and variables.</p>}
      {inputs.map((input, i) => (
        <div key={input.uid} className="input-decl" data-testid={`input-decl-${i}`}>
          <div className="kv-row">
            <input
              className="input input-sm mono"
              aria-label={`Input ${i + 1} name`}
              placeholder="NAME"
              value={input.name}
              onChange={(e) => update(i, { name: e.target.value })}
              aria-invalid={at(i, 'name') ? true : undefined}
              data-testid={`input-name-${i}`}
            />
            <select
              className="select input-sm"
              aria-label={`Input ${i + 1} type`}
              value={input.type}
              onChange={(e) => update(i, { type: e.target.value as EditorInput['type'], defaultText: '' })}
              data-testid={`input-type-${i}`}
            >
              {INPUT_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
            <button
              type="button"
              className="btn btn-ghost btn-sm btn-icon"
              aria-label={`Remove input ${input.name || i + 1}`}
              onClick={() => onChange(inputs.filter((_, j) => j !== i))}
            >
              ✕
            </button>
          </div>
          {input.type === 'choice' && (
            <input
              className="input input-sm"
              aria-label={`Input ${i + 1} options`}
              placeholder="options, separated by commas"
              value={input.optionsText}
              onChange={(e) => update(i, { optionsText: e.target.value })}
              data-testid={`input-options-${i}`}
            />
          )}
          {input.type === 'boolean' ? (
            <select
              className="select input-sm"
              aria-label={`Input ${i + 1} default`}
              value={input.defaultText}
              onChange={(e) => update(i, { defaultText: e.target.value })}
              data-testid={`input-default-${i}`}
            >
              <option value="">no default</option>
              <option value="true">default: true</option>
              <option value="false">default: false</option>
            </select>
          ) : (
            <input
              className="input input-sm"
              aria-label={`Input ${i + 1} default`}
              placeholder="default (optional)"
              value={input.defaultText}
              onChange={(e) => update(i, { defaultText: e.target.value })}
              data-testid={`input-default-${i}`}
            />
          )}
          <input
            className="input input-sm"
            aria-label={`Input ${i + 1} description`}
            placeholder="description (shown in the run dialog)"
            value={input.description}
            onChange={(e) => update(i, { description: e.target.value })}
            data-testid={`input-description-${i}`}
          />
          <label className="check">
            <input type="checkbox" checked={input.required} onChange={(e) => update(i, { required: e.target.checked })} data-testid={`input-required-${i}`} />{' '}
            Required
          </label>
          {['name', 'type', 'options', 'default', 'description'].map((field) => (
            <FieldErrors key={field} messages={at(i, field)} path={`inputs[${i}].${field}`} />
          ))}
        </div>
      ))}
      <FieldErrors messages={errors.inputs} path="inputs" />
      <div>
        <button
          type="button"
          className="btn btn-sm"
          onClick={() =>
            onChange([...inputs, { uid: newUid('i'), name: '', type: 'string', description: '', required: false, defaultText: '', optionsText: '' }])
          }
          data-testid="add-input"
        >
          + Add input
        </button>
      </div>
    </div>
  );
}
