/** "5 minutes ago" with the exact time on hover; re-renders each minute. */
import { formatDateTime, formatRelative } from '../lib/format';
import { useNow } from '../lib/use-now';

export function RelativeTime({ iso }: { iso: string | null | undefined }) {
  const now = useNow(30_000);
  if (!iso) return <span className="faint">—</span>;
  return (
    <time dateTime={iso} title={formatDateTime(iso)} className="nowrap">
      {formatRelative(iso, now)}
    </time>
  );
}
