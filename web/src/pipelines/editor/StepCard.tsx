/** One step in the editor: name, type, generated config form, advanced and sandbox options, move/remove. */
import { useMemo, useState } from 'react';
import { FormField, fieldAria } from '../../components/FormField';
import { FieldErrors } from '../../components/FieldErrors';
import { SchemaForm } from '../../forms/SchemaForm';
import { fieldErrorsAt, fieldsFromSchema } from '../../forms/schema-form-model';
import { hasSandboxSettings, stepFieldErrors, type EditorStep, type ErrorMap, type StepTypeInfo } from '../../forms/pipeline-form-model';
import type { CredentialSummary } from '../../api/types';
import { SandboxFields } from './SandboxFields';

interface StepCardProps {
  step: EditorStep;
  index: number;
  count: number;
  types: StepTypeInfo[];
  /** The credentials a step may name; null while unknown (not loaded, or not readable). */
  credentials: CredentialSummary[] | null;
  errors: ErrorMap;
  onChange: (step: EditorStep) => void;
  onTypeChange: (type: string) => void;
  onMove: (to: number) => void;
  onRemove: () => void;
}

export function StepCard({ step, index, count, types, credentials, errors, onChange, onTypeChange, onMove, onRemove }: StepCardProps) {
  const type = types.find((t) => t.id === step.type);
  const fields = useMemo(() => fieldsFromSchema(type?.config_schema), [type]);
  const own = stepFieldErrors(errors, index);
  const configErrors = fieldErrorsAt(errors, ['steps', index, 'config'], fields);
  const hasAdvancedErrors = Boolean(
    own.timeout_seconds || own.retries || own.continue_on_error || own.parallel_group || own.credential || own.network || own.limits,
  );
  const [advanced, setAdvanced] = useState(
    step.timeoutSeconds !== '' || step.retries !== '' || step.continueOnError || step.parallelGroup !== '' || hasSandboxSettings(step),
  );
  const showAdvanced = advanced || hasAdvancedErrors;
  const id = `step-${step.uid}`;
  const path = `steps[${index}]`;

  return (
    <section className="step-card card" data-testid="step-card" data-step-index={index} aria-labelledby={`${id}-title`}>
      <header className="step-card-head">
        <span className="step-num" aria-hidden="true">
          {index + 1}
        </span>
        <h3 id={`${id}-title`} className="truncate" style={{ flex: 1 }}>
          {step.name || 'Untitled step'}
          <span className="faint" style={{ fontWeight: 400 }}>
            {' '}
            · {type?.name ?? step.type}
          </span>
        </h3>
        <div className="row" style={{ flexWrap: 'nowrap' }}>
          <button
            type="button"
            className="btn btn-ghost btn-sm btn-icon"
            aria-label={`Move step ${index + 1} up`}
            disabled={index === 0}
            onClick={() => onMove(index - 1)}
            data-testid="step-up"
          >
            ↑
          </button>
          <button
            type="button"
            className="btn btn-ghost btn-sm btn-icon"
            aria-label={`Move step ${index + 1} down`}
            disabled={index === count - 1}
            onClick={() => onMove(index + 1)}
            data-testid="step-down"
          >
            ↓
          </button>
          <button type="button" className="btn btn-ghost btn-sm btn-icon" aria-label={`Remove step ${index + 1}`} onClick={onRemove} data-testid="step-remove">
            ✕
          </button>
        </div>
      </header>
      <div className="step-card-body">
        <FieldErrors messages={own['']} path={path} />
        <div className="form-grid">
          <FormField id={`${id}-name`} label="Step name" required errors={own.name} errorPath={`${path}.name`}>
            <input
              className="input"
              {...fieldAria(`${id}-name`, own.name)}
              value={step.name}
              onChange={(e) => onChange({ ...step, name: e.target.value })}
              data-testid="step-name"
            />
          </FormField>
          <FormField id={`${id}-type`} label="Type" required errors={own.type} errorPath={`${path}.type`} hint={type?.description}>
            <select
              className="select"
              {...fieldAria(`${id}-type`, own.type, type?.description)}
              value={step.type}
              onChange={(e) => onTypeChange(e.target.value)}
              data-testid="step-type"
            >
              {!type && <option value={step.type}>{step.type} (unknown)</option>}
              {types.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </select>
          </FormField>
        </div>
        {fields.length > 0 && (
          <fieldset className="step-config">
            <legend>Configuration</legend>
            <SchemaForm
              fields={fields}
              values={step.values}
              onChange={(values) => onChange({ ...step, values })}
              errors={configErrors}
              idPrefix={`${id}-cfg`}
              pathPrefix={`${path}.config`}
            />
          </fieldset>
        )}
        <button
          type="button"
          className="btn btn-ghost btn-sm"
          aria-expanded={showAdvanced}
          onClick={() => setAdvanced(!advanced)}
          data-testid="step-advanced-toggle"
        >
          {showAdvanced ? '▾' : '▸'} Advanced: timeout, retries, sandbox
        </button>
        {showAdvanced && (
          <div className="form-grid">
            <FormField
              id={`${id}-timeout`}
              label="Timeout (seconds)"
              hint="Empty: the server default"
              errors={own.timeout_seconds}
              errorPath={`${path}.timeout_seconds`}
            >
              <input
                className="input"
                inputMode="numeric"
                {...fieldAria(`${id}-timeout`, own.timeout_seconds, 'x')}
                value={step.timeoutSeconds}
                onChange={(e) => onChange({ ...step, timeoutSeconds: e.target.value })}
                data-testid="step-timeout"
              />
            </FormField>
            <FormField id={`${id}-retries`} label="Retries" hint="Extra attempts after a failure (0–10)" errors={own.retries} errorPath={`${path}.retries`}>
              <input
                className="input"
                inputMode="numeric"
                {...fieldAria(`${id}-retries`, own.retries, 'x')}
                value={step.retries}
                onChange={(e) => onChange({ ...step, retries: e.target.value })}
                data-testid="step-retries"
              />
            </FormField>
            <FormField
              id={`${id}-parallel`}
              label="Parallel group"
              hint="Consecutive steps with the same group run at the same time"
              errors={own.parallel_group}
              errorPath={`${path}.parallel_group`}
            >
              <input
                className="input"
                {...fieldAria(`${id}-parallel`, own.parallel_group, 'x')}
                value={step.parallelGroup}
                onChange={(e) => onChange({ ...step, parallelGroup: e.target.value })}
                data-testid="step-parallel"
              />
            </FormField>
            <div className="field" style={{ justifyContent: 'center' }}>
              <label className="check">
                <input
                  type="checkbox"
                  checked={step.continueOnError}
                  onChange={(e) => onChange({ ...step, continueOnError: e.target.checked })}
                  data-testid="step-continue"
                />
                Continue the run if this step fails
              </label>
              <FieldErrors messages={own.continue_on_error} path={`${path}.continue_on_error`} />
            </div>
          </div>
        )}
        {showAdvanced && <SandboxFields step={step} index={index} idPrefix={id} credentials={credentials} errors={errors} onChange={onChange} />}
      </div>
    </section>
  );
}
