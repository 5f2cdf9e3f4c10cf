/**
 * A modal dialog on the native <dialog> element: focus is trapped and Escape closes it natively.
 * Its content is a form so Enter submits.
 */
import { useEffect, useRef, type FormEvent, type ReactNode } from 'react';

interface DialogProps {
  open: boolean;
  title: string;
  onClose: () => void;
  onSubmit?: () => void;
  children: ReactNode;
  footer: ReactNode;
  testId?: string;
  wide?: boolean;
}

export function Dialog({ open, title, onClose, onSubmit, children, footer, testId, wide }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit?.();
  };

  return (
    <dialog
      ref={ref}
      className="dialog"
      style={wide ? { width: 'min(760px, calc(100vw - 24px))' } : undefined}
      aria-labelledby={testId ? `${testId}-title` : undefined}
      data-testid={testId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      onClick={(event) => {
        if (event.target === ref.current) onClose();
      }}
    >
      {open && (
        <form onSubmit={submit} noValidate>
          <div className="dialog-head">
            <h2 id={testId ? `${testId}-title` : undefined}>{title}</h2>
            <button type="button" className="btn btn-ghost btn-icon btn-sm" aria-label="Close" onClick={onClose}>
              ✕
            </button>
          </div>
          <div className="dialog-body">{children}</div>
          <div className="dialog-foot">{footer}</div>
        </form>
      )}
    </dialog>
  );
}

/** The footer of a form dialog: Cancel, and the submit button (disabled while the form is sent). */
export function DialogButtons({ onCancel, busy, label, testId }: { onCancel: () => void; busy: boolean; label: string; testId: string }) {
  return (
    <>
      <button type="button" className="btn" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" className="btn btn-primary" disabled={busy} data-testid={testId}>
        {label}
      </button>
    </>
  );
}

/** A form's error that belongs to no field, above the fields. */
export function FormErrorBanner({ message, testId }: { message: string | null; testId: string }) {
  if (!message) return null;
  return (
    <div className="banner banner-error" role="alert" data-testid={testId}>
      {message}
    </div>
  );
}
