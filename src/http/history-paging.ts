/**
 * The document's page envelope for histories (runs, deliveries), with cursors for deep pages.
 * `page` works as the document says (an offset: fine near the top); `next` links carry a cursor
 * as well (`?page=3&cursor=b1234`: the rows older than run 1234), so a client that follows
 * `next` pays the same for page 50,000 as for page 2. `previous` from a cursor page carries an
 * `a<id>` cursor (the rows newer than the page). With a cursor, `page` only numbers the page.
 */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { notFound } from '../domain/errors.js';
import type { HistoryPage, HistoryWindow } from '../store/history-window.js';
import { PageQuery } from './schemas/common.js';

export const HistoryPageQuery = {
  ...PageQuery,
  cursor: Type.Optional(
    Type.String({
      pattern: '^[ab][1-9][0-9]{0,9}$',
      description: 'From a `next`/`previous` link: `b<id>` the rows older than id, `a<id>` the rows newer; `page` then only numbers the page',
    }),
  ),
};

export const historyPageOf = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Object({
    count: Type.Integer({ description: 'Exact unless count_capped; then at least this many' }),
    count_capped: Type.Boolean({ description: 'The count stopped at its cap (filtered lists count at most 1,000 rows)' }),
    next: Type.Union([Type.String(), Type.Null()]),
    previous: Type.Union([Type.String(), Type.Null()]),
    results: Type.Array(item),
  });

export interface HistoryPageRequest {
  page: number;
  page_size: number;
  cursor?: string | undefined;
}

export function historyWindow(q: HistoryPageRequest): HistoryWindow {
  if (q.cursor === undefined) return { limit: q.page_size, offset: (q.page - 1) * q.page_size };
  const id = Number(q.cursor.slice(1));
  return q.cursor.startsWith('a') ? { limit: q.page_size, after: id } : { limit: q.page_size, before: id };
}

export function historyEnvelope<T extends { id: number }, B>(request: FastifyRequest, q: HistoryPageRequest, page: HistoryPage<T>, body: (item: T) => B) {
  const byCursor = q.cursor !== undefined;
  if (!byCursor && q.page > 1) {
    const last = Math.max(1, Math.ceil(page.total / q.page_size));
    if ((!page.capped && q.page > last) || page.items.length === 0) throw notFound(`Page ${q.page} (there are ${page.capped ? `at least ${last}` : last})`);
  }
  const link = (n: number, cursor: string | null) => {
    const url = new URL(request.url, `${request.protocol}://${request.host}`);
    if (n <= 1) url.searchParams.delete('page');
    else url.searchParams.set('page', String(n));
    if (cursor === null) url.searchParams.delete('cursor');
    else url.searchParams.set('cursor', cursor);
    return url.toString();
  };
  const first = page.items[0];
  const last = page.items[page.items.length - 1];
  const next = page.older && last ? link(q.page + 1, `b${last.id}`) : null;
  let previous: string | null = null;
  if (!byCursor) previous = q.page > 1 ? link(q.page - 1, null) : null;
  else if (page.newer) previous = q.page - 1 <= 1 || !first ? link(1, null) : link(q.page - 1, `a${first.id}`);
  return { count: page.total, count_capped: page.capped, next, previous, results: page.items.map(body) };
}
