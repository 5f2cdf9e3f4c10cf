/** Loading, error and empty states. */
import type { ReactNode } from 'react';
import { ApiError, errorMessage } from '../api/api-error';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading-block" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function ErrorBanner({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  const forbidden = error instanceof ApiError && error.status === 403;
  return (
    <div className="banner banner-error" role="alert" data-testid="error-banner">
      <div style={{ flex: 1 }}>{forbidden ? 'You do not have permission to see this.' : errorMessage(error)}</div>
      {onRetry && !forbidden && (
        <button type="button" className="btn btn-sm" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <h3>{title}</h3>
      {children}
    </div>
  );
}
