/**
 * Pages of a history (runs, deliveries): newest first, by id. A page is read in one of three ways:
 *   offset  the document's `page` (cost grows with the offset: fine for the first pages),
 *   before  a cursor: the rows older than an id (constant cost at any depth: `next` links use it),
 *   after   a cursor: the rows newer than an id, read oldest first and turned around (`previous`).
 * One more row than the page is read, so whether there is a next page is known without a count.
 */
import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Database } from './schema.js';

export type HistoryWindow = { limit: number } & ({ offset: number } | { before: number } | { after: number });

export interface HistoryPage<T> {
  /** Exact when `capped` is false; otherwise at least this many (COUNT_CAP). */
  total: number;
  capped: boolean;
  items: T[];
  /** Rows older than the page exist. */
  older: boolean;
  /** Rows newer than the page exist. */
  newer: boolean;
}

/**
 * A filtered list counts at most this many rows (GitLab caps its pipeline counts the same way):
 * counting every match of a filter over a million runs costs what walking them costs. Unfiltered
 * lists read kept counters instead (migration 014) and are exact.
 */
export const COUNT_CAP = 1000;

/** How the repository's query is bounded and ordered for a window (limit already includes the extra row). */
export interface WindowQuery {
  bound: { op: '<' | '>'; id: number } | null;
  order: 'asc' | 'desc';
  limit: number;
  offset: number;
}

export async function readWindow<R extends { id: number }>(
  window: HistoryWindow,
  fetch: (q: WindowQuery) => Promise<R[]>,
): Promise<Omit<HistoryPage<R>, 'total' | 'capped'>> {
  const limit = window.limit + 1;
  if ('after' in window) {
    const rows = await fetch({ bound: { op: '>', id: window.after }, order: 'asc', limit, offset: 0 });
    const newer = rows.length > window.limit;
    return { items: rows.slice(0, window.limit).reverse(), older: true, newer };
  }
  const before = 'before' in window ? window.before : null;
  const offset = 'offset' in window ? window.offset : 0;
  const rows = await fetch({ bound: before === null ? null : { op: '<', id: before }, order: 'desc', limit, offset });
  return { items: rows.slice(0, window.limit), older: rows.length > window.limit, newer: before !== null || offset > 0 };
}

/**
 * How many rows the id query selects, counting at most COUNT_CAP + 1 of them: an exact count when
 * there are fewer, else COUNT_CAP flagged as capped (a deep filtered history is never scanned whole).
 */
export async function cappedCount(
  db: Kysely<Database>,
  ids: SelectQueryBuilder<Database, keyof Database, { id: number }>,
): Promise<{ total: number; capped: boolean }> {
  const row = await db
    .selectFrom(ids.limit(COUNT_CAP + 1).as('matching'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const n = Number(row.n);
  return n > COUNT_CAP ? { total: COUNT_CAP, capped: true } : { total: n, capped: false };
}
