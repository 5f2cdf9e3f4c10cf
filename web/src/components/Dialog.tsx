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
