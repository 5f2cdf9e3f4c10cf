/** Previous / next paging over a page envelope, with a page-size choice. */
interface PaginationProps {
  page: number;
  pageSize: number;
  count: number;
  onPage: (page: number) => void;
  onPageSize?: (size: number) => void;
}

export function Pagination({ page, pageSize, count, onPage, onPageSize }: PaginationProps) {
  const pages = Math.max(1, Math.ceil(count / pageSize));
  const from = count === 0 ? 0 : (page - 1) * pageSize + 1;
  const to = Math.min(count, page * pageSize);
  return (
    <nav className="pagination" aria-label="Pagination" data-testid="pagination">
      <span className="tabular">
        {from}–{to} of {count}
      </span>
      <div className="row">
        {onPageSize && (
          <label className="row muted">
            <span className="hide-sm">Per page</span>
            <select className="select input-sm" style={{ width: 'auto' }} value={pageSize} onChange={(e) => onPageSize(Number(e.target.value))}>
              {[10, 20, 50, 100].map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="button" className="btn btn-sm" disabled={page <= 1} onClick={() => onPage(page - 1)} data-testid="page-prev">
          ← Previous
        </button>
        <span className="tabular">
          Page {page} / {pages}
        </span>
        <button type="button" className="btn btn-sm" disabled={page >= pages} onClick={() => onPage(page + 1)} data-testid="page-next">
          Next →
        </button>
      </div>
    </nav>
  );
}
