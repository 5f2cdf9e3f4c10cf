/** "Run pipeline": the launch inputs as a form, the branch and variable overrides, then go to the new run. */
import { useEffect, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { Dialog } from '../components/Dialog';
import { FormField, fieldAria } from '../components/FormField';
import { FieldErrors } from '../components/FieldErrors';
import { ApiError, errorMessage } from '../api/api-error';
import { getPipeline, runPipeline } from '../api/endpoints';
import type { LaunchInput } from '../api/types';
import { initialInputValues, inputsPayload, type InputValues } from './launch-inputs-form';
import { variableErrors, errorMapFromDetails, VARIABLE_NAME } from '../forms/pipeline-form-model';
import { KeyValueRows, type KeyValueRow } from './KeyValueRows';

interface RunDialogProps {
  open: boolean;
  onClose: () => void;
  /** Without `inputs` (a list row), the dialog reads them from the pipeline when it opens. */
  pipeline: { id: number; name: string; branch?: string | null; variables?: Record<string, unknown> | null; inputs?: LaunchInput[] };
}

export function RunDialog({ open, onClose, pipeline }: RunDialogProps) {
  const navigate = useNavigate();
  const [branch, setBranch] = useState(pipeline.branch ?? 'main');
  const [rows, setRows] = useState<KeyValueRow[]>([]);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [inputs, setInputs] = useState<LaunchInput[] | null>(pipeline.inputs ?? null);
  const [values, setValues] = useState<InputValues>(() => initialInputValues(pipeline.inputs ?? []));

  useEffect(() => {
    if (open) {
      setBranch(pipeline.branch ?? 'main');
      setRows([]);
      setErrors({});
      setFormError(null);
    }
  }, [open, pipeline.branch]);

  // By content: a parent that reloads the pipeline while the dialog is open does not reset the form.
  const declared = pipeline.inputs ? JSON.stringify(pipeline.inputs) : null;
  useEffect(() => {
    if (!open) return;
    if (declared !== null) {
      const known = JSON.parse(declared) as LaunchInput[];
      setInputs(known);
      setValues(initialInputValues(known));
      return;
    }
    const controller = new AbortController();
    setInputs(null);
    getPipeline(pipeline.id, { signal: controller.signal }).then(
      (p) => {
        setInputs(p.inputs ?? []);
        setValues(initialInputValues(p.inputs ?? []));
      },
      () => {
        if (!controller.signal.aborted) setInputs([]);
      },
    );
    return () => controller.abort();
  }, [open, pipeline.id, declared]);

  const submit = async () => {
    const variables: Record<string, string> = {};
    const given = inputsPayload(inputs ?? [], values);
    const clientErrors: Record<string, string[]> = { ...given.errors };
    for (const row of rows) {
      const key = row.key.trim();
      if (key === '' && row.value === '') continue;
      if (!VARIABLE_NAME.test(key)) clientErrors[`variables.${key}`] = ['Names use letters, digits and _ and do not start with a digit'];
      else variables[key] = row.value;
    }
    if (Object.keys(clientErrors).length > 0) {
      setErrors(clientErrors);
      return;
    }
    setBusy(true);
    setErrors({});
    setFormError(null);
    try {
      const run = await runPipeline(pipeline.id, {
        branch: branch.trim() || undefined,
        variables: Object.keys(variables).length > 0 ? variables : undefined,
        inputs: Object.keys(given.inputs).length > 0 ? given.inputs : undefined,
      });
      onClose();
      navigate(`/runs/${run.id}`);
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.details).length > 0) setErrors(errorMapFromDetails(err.details));
      setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const known = Object.keys(pipeline.variables ?? {});
  return (
    <Dialog
      open={open}
      title={`Run ${pipeline.name}`}
      onClose={onClose}
      onSubmit={() => void submit()}
      testId="run-dialog"
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy || inputs === null} data-testid="run-submit">
            {busy ? 'Starting…' : '▶ Run'}
          </button>
        </>
      }
    >
      {formError && (
        <div className="banner banner-error" role="alert">
          {formError}
        </div>
      )}
      {inputs === null && <p className="muted">Loading the pipeline's inputs…</p>}
      {inputs !== null && inputs.length > 0 && (
        <fieldset className="field run-inputs" data-testid="run-inputs">
          <legend className="field-label">Inputs</legend>
          {inputs.map((input) => (
            <InputField
              key={input.name}
              input={input}
              value={values[input.name]}
              errors={errors[`inputs.${input.name}`]}
              onChange={(value) => setValues((v) => ({ ...v, [input.name]: value }))}
            />
          ))}
        </fieldset>
      )}
      <FormField id="run-branch" label="Branch" errors={errors.branch} errorPath="branch" hint="Leave as is to build the pipeline's branch.">
        <input
          className="input"
          {...fieldAria('run-branch', errors.branch)}
          value={branch}
          onChange={(e) => setBranch(e.target.value)}
          data-testid="run-branch"
          autoFocus
        />
      </FormField>
      <div className="field">
        <span className="field-label">Variables</span>
        <span className="field-hint">
          Override or add environment variables for this run{known.length > 0 ? ` (pipeline defines ${known.join(', ')})` : ''}.
        </span>
        <KeyValueRows rows={rows} onChange={setRows} idPrefix="run-var" errors={variableErrors(errors)} errorPathPrefix="variables." addLabel="Add variable" />
      </div>
    </Dialog>
  );
}

/** One launch input: a select for a choice, a checkbox for a boolean, a number or text field. */
function InputField({
  input,
  value,
  errors,
  onChange,
}: {
  input: LaunchInput;
  value: string | boolean | undefined;
  errors: string[] | undefined;
  onChange: (value: string | boolean) => void;
}) {
  const id = `run-input-${input.name}`;
  const path = `inputs.${input.name}`;
  const hint = input.description ?? null;
  const aria = fieldAria(id, errors, hint);
  const text = typeof value === 'string' ? value : '';
  if (input.type === 'boolean')
    return (
      <div className="field">
        <label className="check" htmlFor={id}>
          <input type="checkbox" {...aria} checked={value === true} onChange={(e) => onChange(e.target.checked)} data-testid={id} /> {input.name}
        </label>
        {hint && (
          <div className="field-hint" id={`${id}-hint`}>
            {hint}
          </div>
        )}
        <FieldErrors messages={errors} path={path} id={`${id}-error`} />
      </div>
    );
  const required = input.required === true && input.default === undefined;
  return (
    <FormField id={id} label={input.name} required={required} hint={hint} errors={errors} errorPath={path}>
      {input.type === 'choice' ? (
        <select className="input" {...aria} value={text} onChange={(e) => onChange(e.target.value)} data-testid={id}>
          {!required && <option value="">{input.default !== undefined ? `(default: ${String(input.default)})` : '(none)'}</option>}
          {(input.options ?? []).map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      ) : (
        <input
          className="input"
          {...aria}
          type={input.type === 'number' ? 'number' : 'text'}
          step={input.type === 'number' ? 'any' : undefined}
          value={text}
          placeholder={input.default !== undefined ? String(input.default) : ''}
          onChange={(e) => onChange(e.target.value)}
          data-testid={id}
        />
      )}
    </FormField>
  );
}
