/** Search box with match navigation, fold-all, follow-tail and download. */
interface LogToolbarProps {
  query: string;
  onQuery: (q: string) => void;
  matchCount: number;
  matchIndex: number;
  onNext: () => void;
  onPrev: () => void;
  follow: boolean;
  onFollow: (on: boolean) => void;
  allFolded: boolean;
  onFoldAll: () => void;
  onDownload: () => void;
  totalLines: number;
  canFold: boolean;
}

export function LogToolbar(props: LogToolbarProps) {
  const { query, onQuery, matchCount, matchIndex, onNext, onPrev, follow, onFollow, allFolded, onFoldAll, onDownload, totalLines, canFold } = props;
  return (
    <div className="log-toolbar">
      <div className="log-search">
        <input
          className="input input-sm"
          type="search"
          placeholder="Search log"
          aria-label="Search log"
          value={query}
          onChange={(e) => onQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              if (e.shiftKey) onPrev();
              else onNext();
            } else if (e.key === 'Escape' && query !== '') {
              e.preventDefault();
              onQuery('');
            }
          }}
          data-testid="log-search"
        />
        <span className="log-match-count tabular" aria-live="polite" data-testid="log-match-count">
          {query === '' ? '' : matchCount === 0 ? 'no matches' : `${matchIndex} / ${matchCount}`}
        </span>
        <button type="button" className="btn btn-ghost btn-sm btn-icon" aria-label="Previous match" disabled={matchCount === 0} onClick={onPrev}>
          ↑
        </button>
        <button type="button" className="btn btn-ghost btn-sm btn-icon" aria-label="Next match" disabled={matchCount === 0} onClick={onNext}>
          ↓
        </button>
      </div>
      <span className="faint tabular hide-sm">{totalLines.toLocaleString()} lines</span>
      <div className="row" style={{ marginLeft: 'auto', flexWrap: 'nowrap' }}>
        {canFold && (
          <button type="button" className="btn btn-ghost btn-sm" onClick={onFoldAll} data-testid="log-fold-all">
            {allFolded ? 'Expand all' : 'Collapse all'}
          </button>
        )}
        <button
          type="button"
          className={`btn btn-sm ${follow ? 'btn-primary' : ''}`}
          aria-pressed={follow}
          onClick={() => onFollow(!follow)}
          data-testid="log-follow"
        >
          ⤓ Follow
        </button>
        <button type="button" className="btn btn-sm" onClick={onDownload} data-testid="log-download">
          Download
        </button>
      </div>
    </div>
  );
}
