/** Personal access tokens and the audit log: types and calls. */
import { api, request, withQuery, type Query } from './client';

export type TokenScope = 'read' | 'run' | 'write' | 'admin';
export const TOKEN_SCOPES: TokenScope[] = ['read', 'run', 'write', 'admin'];

export interface PersonalToken {
  id: number;
  name: string;
  scopes: TokenScope[];
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
}

export interface NewToken {
  name: string;
  scopes: TokenScope[];
  expires_at?: string;
}

export const listTokens = (o: { signal?: AbortSignal } = {}) => api<PersonalToken[]>('/api/users/me/tokens/', o);
export const createToken = (body: NewToken) => api<PersonalToken & { token: string }>('/api/users/me/tokens/', { method: 'POST', body });
export const revokeToken = (id: number) => api<void>(`/api/users/me/tokens/${id}/`, { method: 'DELETE' });

export interface AuditEvent {
  id: number;
  at: string;
  actor: { id: number | null; username: string } | null;
  source_ip: string | null;
  user_agent: string | null;
  action: string;
  target: { type: string; id: string | null; name: string | null };
  project_id: number | null;
  diff: Record<string, { before?: unknown; after?: unknown }> | null;
}

export interface AuditFilters {
  actor?: string;
  target_type?: string;
  target_id?: string;
  action?: string;
  project?: string;
  since?: string;
  until?: string;
}

export const listAuditEvents = (query: Query, o: { signal?: AbortSignal } = {}) =>
  api<{ next: string | null; results: AuditEvent[] }>('/api/audit-events/', { ...o, query });

/** Every matching event as JSON lines, saved as a file (the export needs the token, so not a plain link). */
export async function downloadAuditEvents(query: Query): Promise<void> {
  const res = await request(withQuery('/api/audit-events/', { ...query, format: 'jsonl' }));
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = 'audit-events.jsonl';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The href of the export, for display and for tests (the download itself goes through fetch). */
export const auditExportPath = (query: Query) => withQuery('/api/audit-events/', { ...query, format: 'jsonl' });
