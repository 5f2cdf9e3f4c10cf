/**
 * Pin / Unpin on the run page: retention never removes a pinned run (docs/operations.md,
 * Retention). The server decides who may (the right to run in the run's project); a refusal is
 * shown as a toast.
 */
import { useEffect, useState } from 'react';
import { api } from '../api/client';
import { errorMessage } from '../api/api-error';
import { useToast } from '../components/Toasts';

export function PinButton({ runId, pinnedAt }: { runId: number; pinnedAt: string | null | undefined }) {
  const toast = useToast();
  const [pinned, setPinned] = useState<string | null>(pinnedAt ?? null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setPinned(pinnedAt ?? null), [runId, pinnedAt]);
  const toggle = async () => {
    setBusy(true);
    try {
      const run = await api<{ pinned_at: string | null }>(`/api/pipeline-runs/${runId}/pin/`, { method: pinned ? 'DELETE' : 'POST' });
      setPinned(run.pinned_at);
      toast(run.pinned_at ? 'Pinned: retention keeps this run' : 'Unpinned: retention may remove this run');
    } catch (err) {
      toast(errorMessage(err), 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <button
      type="button"
      className="btn"
      onClick={() => void toggle()}
      disabled={busy}
      aria-pressed={pinned !== null}
      title={pinned ? `Pinned ${new Date(pinned).toLocaleString()}: kept by retention` : 'Keep this run whatever the retention settings'}
      data-testid="pin-run"
    >
      {pinned ? 'Unpin' : 'Pin'}
    </button>
  );
}
