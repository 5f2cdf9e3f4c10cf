/** "Created by" filter: admins pick any user; others choose everyone or themselves. */
import { useAuth } from '../auth/AuthProvider';
import { listUsers } from '../api/endpoints';
import { useAsync } from '../lib/use-async';

export function CreatorFilter({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  const { user } = useAuth();
  const isAdmin = user?.role === 'admin';
  const users = useAsync((signal) => (isAdmin ? listUsers({ page_size: 100 }, { signal }).then((p) => p.results) : Promise.resolve([])), [isAdmin]);
  return (
    <select className="select" aria-label="Created by" value={value} onChange={(e) => onChange(e.target.value)} data-testid="filter-creator">
      <option value="">Anyone</option>
      {user && <option value={String(user.id)}>Me ({user.username})</option>}
      {(users.data ?? [])
        .filter((u) => u.id !== user?.id)
        .map((u) => (
          <option key={u.id} value={String(u.id)}>
            {u.username}
          </option>
        ))}
    </select>
  );
}
