import type { FastifyRequest } from 'fastify';
import { notFound } from '../domain/errors.js';

export interface PageRequest {
  page: number;
  page_size: number;
}

export function pageWindow(q: PageRequest) {
  return { limit: q.page_size, offset: (q.page - 1) * q.page_size };
}

/** The document's page envelope with absolute next/previous URLs; a page past the end is a 404. */
export function pageEnvelope<T>(request: FastifyRequest, q: PageRequest, total: number, results: T[]) {
  const last = Math.max(1, Math.ceil(total / q.page_size));
  if (q.page > last) throw notFound(`Page ${q.page} (there are ${last})`);
  const link = (page: number) => {
    const url = new URL(request.url, `${request.protocol}://${request.host}`);
    if (page === 1) url.searchParams.delete('page');
    else url.searchParams.set('page', String(page));
    return url.toString();
  };
  return { count: total, next: q.page < last ? link(q.page + 1) : null, previous: q.page > 1 ? link(q.page - 1) : null, results };
}
