/** "Run pipeline": choose the branch and override variables, then go to the new run. */
import { useEffect, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { Dialog } from '../components/Dialog';
import { FormField, fieldAria } from '../components/FormField';
import { ApiError, errorMessage } from '../api/api-error';
import { runPipeline } from '../api/endpoints';
import { variableErrors, errorMapFromDetails, VARIABLE_NAME } from '../forms/pipeline-form-model';
import { KeyValueRows, type KeyValueRow } from './KeyValueRows';

interface RunDialogProps {
  open: boolean;
  onClose: () => void;
  pipeline: { id: number; name: string; branch?: string | null; variables?: Record<string, unknown> | null };
}

export function RunDialog({ open, onClose, pipeline }: RunDialogProps) {
  const navigate = useNavigate();
  const [branch, setBranch] = useState(pipeline.branch ?? 'main');
  const [rows, setRows] = useState<KeyValueRow[]>([]);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (open) {
      setBranch(pipeline.branch ?? 'main');
      setRows([]);
      setErrors({});
      setFormError(null);
    }
  }, [open, pipeline.branch]);

  const submit = async () => {
    const variables: Record<string, string> = {};
    const clientErrors: Record<string, string[]> = {};
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
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="run-submit">
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
