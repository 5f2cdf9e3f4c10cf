/**
 * A step's sandbox settings in the editor: the credential it receives, its network, and its
 * resource limits (empty = the server's default). Part of the step card's advanced options.
 */
import { FormField, fieldAria } from '../../components/FormField';
import { FieldErrors } from '../../components/FieldErrors';
import { stepFieldErrors, stepLimitErrors, type EditorLimits, type EditorStep, type ErrorMap } from '../../forms/pipeline-form-model';
import type { CredentialSummary } from '../../api/types';

interface SandboxFieldsProps {
  step: EditorStep;
  index: number;
  idPrefix: string;
  credentials: CredentialSummary[] | null;
  errors: ErrorMap;
  onChange: (step: EditorStep) => void;
}

const LIMITS: Array<{ key: keyof EditorLimits; field: string; label: string; hint: string; placeholder: string }> = [
  { key: 'memory', field: 'memory', label: 'Memory', hint: 'A size such as 512m or 2g', placeholder: 'server default' },
  { key: 'processes', field: 'processes', label: 'Processes', hint: 'At most this many processes and threads (8 or more)', placeholder: 'server default' },
  { key: 'cpus', field: 'cpus', label: 'CPUs', hint: 'A share in cores: 1.5 is one and a half', placeholder: 'server default' },
  { key: 'fileSize', field: 'file_size', label: 'File size', hint: 'The largest file the step may write', placeholder: 'server default' },
];

export function SandboxFields({ step, index, idPrefix, credentials, errors, onChange }: SandboxFieldsProps) {
  const own = stepFieldErrors(errors, index);
  const limitErrors = stepLimitErrors(errors, index);
  const path = `steps[${index}]`;
  const known = credentials?.some((c) => c.name === step.credential) ?? false;
  const credentialHint =
    credentials === null
      ? 'The credential list could not be loaded; the step keeps the one it names.'
      : 'Only this step gets it, as a file or variable inside its sandbox.';
  const setLimit = (key: keyof EditorLimits, value: string) => onChange({ ...step, limits: { ...step.limits, [key]: value } });

  return (
    <fieldset className="step-config" data-testid="step-sandbox">
      <legend>Credential and sandbox</legend>
      <div className="form-grid">
        <FormField id={`${idPrefix}-credential`} label="Credential" hint={credentialHint} errors={own.credential} errorPath={`${path}.credential`}>
          <select
            className="select"
            {...fieldAria(`${idPrefix}-credential`, own.credential, credentialHint)}
            value={step.credential}
            onChange={(e) => onChange({ ...step, credential: e.target.value })}
            data-testid="step-credential"
          >
            <option value="">none</option>
            {step.credential !== '' && !known && (
              <option value={step.credential}>
                {step.credential}
                {credentials === null ? '' : ' (not found)'}
              </option>
            )}
            {(credentials ?? []).map((c) => (
              <option key={c.id} value={c.name}>
                {c.name} ({c.kind})
              </option>
            ))}
          </select>
        </FormField>
        <FormField
          id={`${idPrefix}-network`}
          label="Network"
          hint="None: the step gets its own empty network (no git fetch, no downloads)"
          errors={own.network}
          errorPath={`${path}.network`}
        >
          <select
            className="select"
            {...fieldAria(`${idPrefix}-network`, own.network, 'x')}
            value={step.network}
            onChange={(e) => onChange({ ...step, network: e.target.value === 'none' ? 'none' : 'host' })}
            data-testid="step-network"
          >
            <option value="host">host (default)</option>
            <option value="none">none</option>
          </select>
        </FormField>
        {LIMITS.map(({ key, field, label, hint, placeholder }) => (
          <FormField
            key={key}
            id={`${idPrefix}-limit-${field}`}
            label={`${label} limit`}
            hint={hint}
            errors={limitErrors[field]}
            errorPath={`${path}.limits.${field}`}
          >
            <input
              className="input"
              {...fieldAria(`${idPrefix}-limit-${field}`, limitErrors[field], hint)}
              value={step.limits[key]}
              placeholder={placeholder}
              spellCheck={false}
              onChange={(e) => setLimit(key, e.target.value)}
              data-testid={`step-limit-${field.replace('_', '-')}`}
            />
          </FormField>
        ))}
      </div>
      <FieldErrors messages={limitErrors['']} path={`${path}.limits`} />
    </fieldset>
  );
}
