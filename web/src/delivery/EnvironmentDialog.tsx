/** Create or edit an environment: every field of its approval rule, branches, timers and queue. */
import { useEffect, useState, type ReactNode } from 'react';
import { createEnvironment, updateEnvironment, type Environment } from '../api/delivery';
import { ApiError, errorMessage } from '../api/api-error';
import { Dialog, DialogButtons, FormErrorBanner } from '../components/Dialog';
import { FormField, fieldAria } from '../components/FormField';
import { ProjectSelect } from '../projects/ProjectField';
import { useCurrentProject } from '../projects/current-project';
import { APPROVER_ROLES, emptyEnvironmentForm, environmentBody, formFromEnvironment, type EnvironmentForm } from './environment-form';

interface EnvironmentDialogProps {
  open: boolean;
  /** null: a new environment. */
  editing: Environment | null;
  onClose: () => void;
  onSaved: (environment: Environment) => void;
}

export function EnvironmentDialog({ open, editing, onClose, onSaved }: EnvironmentDialogProps) {
  const currentProject = useCurrentProject();
  const [form, setForm] = useState<EnvironmentForm>(() => emptyEnvironmentForm());
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!open) return;
    setForm(editing ? formFromEnvironment(editing) : emptyEnvironmentForm(currentProject));
    setErrors({});
    setFormError(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the header's project when the dialog opens, not later
  }, [open, editing]);

  const set = (patch: Partial<EnvironmentForm>) => setForm((f) => ({ ...f, ...patch }));

  const submit = async () => {
    const { body, errors: clientErrors } = environmentBody(form);
    if (Object.keys(clientErrors).length > 0) {
      setErrors(clientErrors);
      return;
    }
    setBusy(true);
    setErrors({});
    setFormError(null);
    try {
      const saved = editing ? await updateEnvironment(editing.id, body) : await createEnvironment(body);
      onClose();
      onSaved(saved);
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.details).length > 0) setErrors(err.details);
      setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const text = (
    id: string,
    field: keyof EnvironmentForm,
    path: string,
    label: ReactNode,
    hint: string | null,
    extra: { required?: boolean; type?: string } = {},
  ) => (
    <FormField id={id} label={label} required={extra.required} hint={hint} errors={errors[path]} errorPath={path}>
      <input
        className="input"
        autoComplete="off"
        type={extra.type ?? 'text'}
        {...fieldAria(id, errors[path], hint)}
        value={String(form[field])}
        onChange={(e) => set({ [field]: e.target.value } as Partial<EnvironmentForm>)}
        data-testid={id}
      />
    </FormField>
  );

  return (
    <Dialog
      open={open}
      wide
      title={editing ? `Edit environment ${editing.name}` : 'New environment'}
      onClose={onClose}
      onSubmit={() => void submit()}
      testId="environment-dialog"
      footer={<DialogButtons onCancel={onClose} busy={busy} label={editing ? 'Save' : 'Create environment'} testId="environment-submit" />}
    >
      <FormErrorBanner message={formError} testId="environment-form-error" />
      <div className="form-grid">
        {text('env-name', 'name', 'name', 'Name', 'What a step names in environment: <name>.', { required: true })}
        {!editing && (
          <FormField id="env-project" label="Project" errors={errors.project} errorPath="project" hint="An environment never moves to another project.">
            <ProjectSelect id="env-project" value={form.project} onChange={(project) => set({ project })} testId="env-project" />
          </FormField>
        )}
        <FormField id="env-description" label="Description" errors={errors.description} errorPath="description" className="full">
          <input
            className="input"
            {...fieldAria('env-description', errors.description)}
            value={form.description}
            onChange={(e) => set({ description: e.target.value })}
            data-testid="env-description"
          />
        </FormField>
        {text('env-required-approvals', 'requiredApprovals', 'required_approvals', 'Required approvals', '0: none (the other rules still apply).', {
          type: 'number',
        })}
        {text(
          'env-approver-users',
          'approverUsers',
          'approvers.users',
          'Approvers (users)',
          'Usernames, separated by commas. None named (and no role): maintainers and owners.',
        )}
        <fieldset className="field full">
          <legend className="field-label">Approvers (roles)</legend>
          <div className="row">
            {APPROVER_ROLES.map((role) => (
              <label key={role} className="check">
                <input
                  type="checkbox"
                  checked={form.approverRoles.includes(role)}
                  onChange={(e) => set({ approverRoles: e.target.checked ? [...form.approverRoles, role] : form.approverRoles.filter((r) => r !== role) })}
                  data-testid={`env-role-${role}`}
                />{' '}
                {role}
              </label>
            ))}
          </div>
          <div className="field-hint">Members with these roles in the project may approve; admins always may.</div>
        </fieldset>
        <label className="check full">
          <input
            type="checkbox"
            checked={form.preventSelfApproval}
            onChange={(e) => set({ preventSelfApproval: e.target.checked })}
            data-testid="env-prevent-self-approval"
          />{' '}
          The run&apos;s own author may not approve it
        </label>
        {text('env-branches', 'branches', 'branches', 'Branches allowed to deploy', 'Globs such as main, release/*; empty: any branch.')}
        {text('env-wait-timer', 'waitTimerSeconds', 'wait_timer_seconds', 'Wait timer (seconds)', 'An approved deployment still waits this long.', {
          type: 'number',
        })}
        {text(
          'env-approval-timeout',
          'approvalTimeoutSeconds',
          'approval_timeout_seconds',
          'Approval timeout (seconds)',
          'Empty: wait for approval for ever.',
          { type: 'number' },
        )}
        <FormField id="env-timeout-outcome" label="When the approval times out" errors={errors.timeout_outcome} errorPath="timeout_outcome">
          <select
            className="select"
            {...fieldAria('env-timeout-outcome', errors.timeout_outcome)}
            value={form.timeoutOutcome}
            onChange={(e) => set({ timeoutOutcome: e.target.value as EnvironmentForm['timeoutOutcome'] })}
            data-testid="env-timeout-outcome"
          >
            <option value="reject">reject: the run ends cancelled</option>
            <option value="approve">approve: the deployment proceeds</option>
          </select>
        </FormField>
        <FormField id="env-concurrency" label="Concurrency" errors={errors.concurrency} errorPath="concurrency">
          <select
            className="select"
            {...fieldAria('env-concurrency', errors.concurrency)}
            value={form.concurrency}
            onChange={(e) => set({ concurrency: e.target.value as EnvironmentForm['concurrency'] })}
            data-testid="env-concurrency"
          >
            <option value="">no limit</option>
            <option value="queue">queue: one deployment at a time, in order</option>
            <option value="latest">latest: a newer deployment supersedes waiting ones</option>
          </select>
        </FormField>
      </div>
    </Dialog>
  );
}
