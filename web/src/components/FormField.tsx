/** Label + input slot + hint + errors, wired for accessibility. */
import type { ReactNode } from 'react';
import { FieldErrors } from './FieldErrors';

interface FormFieldProps {
  id: string;
  label: ReactNode;
  required?: boolean;
  hint?: ReactNode;
  errors?: string[];
  errorPath: string;
  className?: string;
  children: ReactNode;
}

export function FormField({ id, label, required, hint, errors, errorPath, className, children }: FormFieldProps) {
  return (
    <div className={`field ${className ?? ''}`}>
      <label className="field-label" htmlFor={id}>
        {label}
        {required && (
          <span className="req" aria-hidden="true">
            *
          </span>
        )}
      </label>
      {children}
      {hint && (
        <div className="field-hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
      <FieldErrors messages={errors} path={errorPath} id={`${id}-error`} />
    </div>
  );
}

/** aria attributes for an input inside a FormField. */
export function fieldAria(id: string, errors: string[] | undefined, hint?: string | null) {
  const described = [hint ? `${id}-hint` : null, errors?.length ? `${id}-error` : null].filter(Boolean).join(' ');
  return {
    id,
    'aria-invalid': errors && errors.length > 0 ? true : undefined,
    'aria-describedby': described === '' ? undefined : described,
  } as const;
}
