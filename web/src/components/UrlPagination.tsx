import { Pagination } from './Pagination';

/** What a list whose page lives in the URL (`?page=`, `?page_size=`) writes back: see lib/use-url-state.ts. */
type SetPage = (patch: { page?: number | null; page_size?: number | null }) => void;

/**
 * The Pagination of a list kept in the URL: a page choice writes `?page=`, a size choice writes
 * `?page_size=` and goes back to the first page. Nothing while the list is loading or empty.
 */
export function UrlPagination({ count, page, pageSize, setQuery }: { count: number | undefined; page: number; pageSize: number; setQuery: SetPage }) {
  if (!count) return null;
  return (
    <Pagination
      page={page}
      pageSize={pageSize}
      count={count}
      onPage={(p) => setQuery({ page: p })}
      onPageSize={(s) => setQuery({ page_size: s, page: null })}
    />
  );
}
