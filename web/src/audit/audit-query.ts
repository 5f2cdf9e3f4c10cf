/** The audit page's filters as they travel in the URL and to the API. */
import type { Query } from '../api/client';

export const AUDIT_FILTER_KEYS = ['actor', 'action', 'target_type', 'target_id', 'project', 'since', 'until'] as const;
export type AuditFilterKey = (typeof AUDIT_FILTER_KEYS)[number];

/** datetime-local values (local time, no zone) become ISO instants for the API. */
export function auditQuery(filters: Record<AuditFilterKey, string>): Query {
  const query: Query = {};
  for (const key of AUDIT_FILTER_KEYS) {
    const value = filters[key].trim();
    if (value === '') continue;
    query[key] = key === 'since' || key === 'until' ? localToIso(value) : value;
  }
  return query;
}

function localToIso(value: string): string {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

/** A diff value as short text: strings as they are, the rest as JSON. */
export function diffText(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}
