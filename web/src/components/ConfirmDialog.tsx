/** "Are you sure?" for destructive actions. */
import { useState } from 'react';
import { Dialog } from './Dialog';
import { errorMessage } from '../api/api-error';

interface ConfirmDialogProps {
  open: boolean;
  title: string;
  message: React.ReactNode;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

export function ConfirmDialog({ open, title, message, confirmLabel, danger, onConfirm, onClose }: ConfirmDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      open={open}
      title={title}
      onClose={onClose}
      onSubmit={() => void confirm()}
      testId="confirm-dialog"
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className={`btn ${danger ? 'btn-danger solid' : 'btn-primary'}`} disabled={busy} data-testid="confirm-submit" autoFocus>
            {confirmLabel}
          </button>
        </>
      }
    >
      <div>{message}</div>
      {error && <div className="field-error">{error}</div>}
    </Dialog>
  );
}
