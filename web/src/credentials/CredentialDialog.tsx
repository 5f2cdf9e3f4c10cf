/**
 * Create or edit a credential. The secret fields change with the kind; on edit they start empty
 * (the stored values are never sent to the browser) and an empty field keeps what is stored.
 */
import { useEffect, useState } from 'react';
import { createCredential, updateCredential } from '../api/endpoints';
import { ApiError, errorMessage } from '../api/api-error';
import type { Credential, CredentialKind } from '../api/types';
import { Dialog } from '../components/Dialog';
import { FormField, fieldAria } from '../components/FormField';
import { ProjectSelect } from '../projects/ProjectField';
import { useCurrentProject } from '../projects/current-project';
import {
  credentialBody,
  CREDENTIAL_KINDS,
  emptyCredentialForm,
  KIND_LABELS,
  needsWholeSecret,
  SECRET_FIELDS,
  type CredentialForm,
  type SecretField,
} from './credential-form';

interface CredentialDialogProps {
  open: boolean;
  /** null: a new credential. */
  editing: Credential | null;
  onClose: () => void;
  onSaved: (credential: Credential) => void;
}

const KEEP_HINT = 'leave empty to keep the stored value';

export function CredentialDialog({ open, editing, onClose, onSaved }: CredentialDialogProps) {
  const [form, setForm] = useState<CredentialForm>(emptyCredentialForm);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const currentProject = useCurrentProject();

  // A fresh form each time the dialog opens, an empty one once it closes: typed secrets do not linger.
  useEffect(() => {
    if (!open) {
      setForm(emptyCredentialForm());
      return;
    }
    setForm(
      editing
        ? { name: editing.name, kind: editing.kind, description: editing.description, secret: {}, project: editing.project_id ?? null }
        : { ...emptyCredentialForm(), project: currentProject },
    );
    setErrors({});
    setFormError(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the header's project when the dialog opens, not later
  }, [open, editing]);

  const storedKind = editing?.kind ?? null;
  const whole = needsWholeSecret(form, storedKind);
  const setSecret = (name: string, value: string) => setForm((f) => ({ ...f, secret: { ...f.secret, [name]: value } }));

  const submit = async () => {
    if (form.name.trim() === '') {
      setErrors({ name: ['Name is required'] });
      return;
    }
    setBusy(true);
    setErrors({});
    setFormError(null);
    try {
      const body = credentialBody(form, storedKind);
      const saved = editing ? await updateCredential(editing.id, body) : await createCredential(body);
      setForm(emptyCredentialForm());
      onClose();
      onSaved(saved);
    } catch (err) {
      if (err instanceof ApiError && Object.keys(err.details).length > 0) setErrors(err.details);
      else setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const secretInput = (field: SecretField) => {
    const id = `cred-secret-${field.name}`;
    const path = `secret.${field.name}`;
    const hint = [field.hint, whole ? null : KEEP_HINT].filter(Boolean).join(' — ') || null;
    const common = {
      ...fieldAria(id, errors[path], hint),
      value: form.secret[field.name] ?? '',
      'data-testid': `cred-${field.name}`,
    };
    let control;
    if (field.input === 'textarea')
      control = (
        <textarea
          className="textarea"
          rows={field.name === 'private_key' ? 7 : 4}
          spellCheck={false}
          autoComplete="off"
          placeholder={whole ? field.placeholder : 'unchanged'}
          {...common}
          onChange={(e) => setSecret(field.name, e.target.value)}
        />
      );
    else if (field.input === 'select')
      control = (
        <select className="select" {...common} onChange={(e) => setSecret(field.name, e.target.value)}>
          <option value="">{whole ? 'utf8 (default)' : 'unchanged'}</option>
          {field.options?.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      );
    else
      control = (
        <input
          className="input"
          type={field.input}
          autoComplete={field.input === 'password' ? 'new-password' : 'off'}
          placeholder={whole ? undefined : 'unchanged'}
          {...common}
          onChange={(e) => setSecret(field.name, e.target.value)}
        />
      );
    return (
      <FormField
        key={`${form.kind}-${field.name}`}
        id={id}
        label={field.label}
        required={whole && field.required}
        hint={hint}
        errors={errors[path]}
        errorPath={path}
        className="full"
      >
        {control}
      </FormField>
    );
  };

  return (
    <Dialog
      open={open}
      wide
      title={editing ? `Edit credential ${editing.name}` : 'New credential'}
      onClose={onClose}
      onSubmit={() => void submit()}
      testId="credential-dialog"
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="credential-submit">
            {editing ? 'Save' : 'Create credential'}
          </button>
        </>
      }
    >
      {formError && <div className="banner banner-error">{formError}</div>}
      <p className="muted" style={{ marginTop: 0 }}>
        Values are write-only: once saved, nobody can read them back, not even an admin. A step receives the credential only when it names it.
      </p>
      <div className="form-grid">
        <FormField id="cred-name" label="Name" required errors={errors.name} errorPath="name" hint="A step names it with credential: <name>.">
          <input
            className="input"
            autoComplete="off"
            {...fieldAria('cred-name', errors.name, 'x')}
            value={form.name}
            onChange={(e) => setForm((f) => ({ ...f, name: e.target.value }))}
            data-testid="cred-name"
          />
        </FormField>
        <FormField
          id="cred-kind"
          label="Kind"
          required
          errors={errors.kind}
          errorPath="kind"
          hint={editing && whole ? 'A new kind needs the whole secret.' : null}
        >
          <select
            className="select"
            {...fieldAria('cred-kind', errors.kind)}
            value={form.kind}
            onChange={(e) => setForm((f) => ({ ...f, kind: e.target.value as CredentialKind, secret: {} }))}
            data-testid="cred-kind"
          >
            {CREDENTIAL_KINDS.map((k) => (
              <option key={k} value={k}>
                {KIND_LABELS[k]}
              </option>
            ))}
          </select>
        </FormField>
        <FormField id="cred-description" label="Description" errors={errors.description} errorPath="description" className="full">
          <input
            className="input"
            autoComplete="off"
            {...fieldAria('cred-description', errors.description)}
            value={form.description}
            onChange={(e) => setForm((f) => ({ ...f, description: e.target.value }))}
            data-testid="cred-description"
          />
        </FormField>
        <FormField id="cred-project" label="Project" errors={errors.project} errorPath="project" className="full">
          <ProjectSelect id="cred-project" value={form.project ?? null} onChange={(project) => setForm((f) => ({ ...f, project }))} testId="cred-project" />
        </FormField>
        {otherErrors(errors, form.kind).length > 0 && (
          <div className="full field-error" data-testid="cred-secret-error">
            {otherErrors(errors, form.kind).join(' ')}
          </div>
        )}
        {SECRET_FIELDS[form.kind].map(secretInput)}
      </div>
    </Dialog>
  );
}

/** Errors no input of the form shows (the secret as a whole, a field of another kind). */
function otherErrors(errors: Record<string, string[]>, kind: CredentialKind): string[] {
  const shown = new Set(['name', 'kind', 'description', ...SECRET_FIELDS[kind].map((f) => `secret.${f.name}`)]);
  return Object.entries(errors).flatMap(([path, messages]) => (shown.has(path) ? [] : messages.map((m) => (path === 'secret' ? m : `${path}: ${m}`))));
}
