/** Add or change a pipeline's schedule: cron in a time zone, branch, variables, enabled, catch-up. */
import { useEffect, useState } from 'react';
import { createSchedule, updateSchedule, type Schedule } from '../api/delivery';
import { ApiError, errorMessage } from '../api/api-error';
import { Dialog, DialogButtons, FormErrorBanner } from '../components/Dialog';
import { FormField, fieldAria } from '../components/FormField';
import { KeyValueRows } from '../pipelines/KeyValueRows';
import { variableErrors } from '../forms/pipeline-form-model';
import { emptyScheduleForm, formFromSchedule, scheduleBody, type ScheduleForm } from './schedule-form';

interface ScheduleDialogProps {
  open: boolean;
  pipelineId: number;
  /** The pipeline's branch, shown as what an empty branch means. */
  pipelineBranch: string;
  /** null: a new schedule. */
  editing: Schedule | null;
  onClose: () => void;
  onSaved: (schedule: Schedule) => void;
}

/** The zones the browser knows, for the field's suggestions. */
const ZONES: string[] = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  } catch {
    return [];
  }
})();

const browserZone = () => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
};

export function ScheduleDialog({ open, pipelineId, pipelineBranch, editing, onClose, onSaved }: ScheduleDialogProps) {
  const [form, setForm] = useState<ScheduleForm>(() => emptyScheduleForm());
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!open) return;
    setForm(editing ? formFromSchedule(editing) : emptyScheduleForm(browserZone()));
    setErrors({});
    setFormError(null);
  }, [open, editing]);

  const set = (patch: Partial<ScheduleForm>) => setForm((f) => ({ ...f, ...patch }));

  const submit = async () => {
    const { body, errors: clientErrors } = scheduleBody(form);
    if (Object.keys(clientErrors).length > 0) {
      setErrors(clientErrors);
      return;
    }
    setBusy(true);
    setErrors({});
    setFormError(null);
    try {
      const saved = editing ? await updateSchedule(pipelineId, editing.id, body) : await createSchedule(pipelineId, body);
      onClose();
      onSaved(saved);
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.details).length > 0) setErrors(err.details);
      setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const cronHint = (
    <>
      Five fields: minute hour day-of-month month day-of-week (<code>0 3 * * 1-5</code>: 03:00 on weekdays), or <code>@daily</code>, <code>@hourly</code>. At
      most once a minute.
    </>
  );
  return (
    <Dialog
      open={open}
      wide
      title={editing ? 'Edit schedule' : 'New schedule'}
      onClose={onClose}
      onSubmit={() => void submit()}
      testId="schedule-dialog"
      footer={<DialogButtons onCancel={onClose} busy={busy} label={editing ? 'Save' : 'Add schedule'} testId="schedule-submit" />}
    >
      <FormErrorBanner message={formError} testId="schedule-form-error" />
      <div className="form-grid">
        <FormField id="schedule-cron" label="Cron" required hint={cronHint} errors={errors.cron} errorPath="cron">
          <input
            className="input mono"
            autoComplete="off"
            spellCheck={false}
            {...fieldAria('schedule-cron', errors.cron, 'x')}
            value={form.cron}
            onChange={(e) => set({ cron: e.target.value })}
            data-testid="schedule-cron"
          />
        </FormField>
        <FormField
          id="schedule-timezone"
          label="Time zone"
          required
          hint="The IANA zone the expression is read in; daylight saving is followed."
          errors={errors.timezone}
          errorPath="timezone"
        >
          <input
            className="input"
            autoComplete="off"
            list="schedule-zones"
            {...fieldAria('schedule-timezone', errors.timezone, 'x')}
            value={form.timezone}
            onChange={(e) => set({ timezone: e.target.value })}
            data-testid="schedule-timezone"
          />
          <datalist id="schedule-zones">
            {ZONES.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </FormField>
        <FormField id="schedule-branch" label="Branch" hint={`Empty: the pipeline's (${pipelineBranch}).`} errors={errors.branch} errorPath="branch">
          <input
            className="input"
            autoComplete="off"
            {...fieldAria('schedule-branch', errors.branch, 'x')}
            value={form.branch}
            placeholder={pipelineBranch}
            onChange={(e) => set({ branch: e.target.value })}
            data-testid="schedule-branch"
          />
        </FormField>
        <FormField id="schedule-description" label="Description" errors={errors.description} errorPath="description">
          <input
            className="input"
            {...fieldAria('schedule-description', errors.description)}
            value={form.description}
            onChange={(e) => set({ description: e.target.value })}
            data-testid="schedule-description"
          />
        </FormField>
        <div className="field full">
          <span className="field-label">Variables</span>
          <span className="field-hint">Run variables for its runs, plain text (the pipeline&apos;s secret variables still apply).</span>
          <KeyValueRows
            rows={form.variables}
            onChange={(variables) => set({ variables })}
            idPrefix="schedule-var"
            errors={variableErrors(errors)}
            errorPathPrefix="variables."
            addLabel="Add variable"
          />
        </div>
        <label className="check">
          <input type="checkbox" checked={form.enabled} onChange={(e) => set({ enabled: e.target.checked })} data-testid="schedule-enabled" /> Enabled
        </label>
        <label className="check">
          <input type="checkbox" checked={form.catchUp} onChange={(e) => set({ catchUp: e.target.checked })} data-testid="schedule-catch-up" /> Catch up: run a
          time missed while AnsFlow was down once when it is back (otherwise it is skipped and recorded)
        </label>
      </div>
    </Dialog>
  );
}
