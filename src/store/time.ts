/** Timestamps are stored as ISO-8601 UTC text with milliseconds (sortable as text). */
export const nowIso = (): string => new Date().toISOString();
export const isoAfter = (seconds: number): string => new Date(Date.now() + seconds * 1000).toISOString();
