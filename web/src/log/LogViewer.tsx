/**
 * The run log: virtualized rows (fixed height, so 200,000 lines scroll smoothly), per-step folding,
 * search with match navigation, line links (#L123), follow-tail and download.
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { RunStep } from '../api/types';
import { buildRowIndex, locateLine, rowAt, rowOfLine, type LogSection } from './log-document';
import { searchSections, type LogMatch } from './log-search';
import { LogLine, LogSectionHeader } from './LogLine';
import { LogToolbar } from './LogToolbar';
import { useDebounced } from '../lib/use-debounced';
import '../styles/log.css';

const ROW_HEIGHT = 20;
const GUTTER_CH = 8;

interface LogViewerProps {
  sections: LogSection[];
  version: number;
  steps: RunStep[];
  live: boolean;
  /** Scroll to this step's section (nonce changes on every request). */
  jumpTo: { stepId: number; nonce: number } | null;
  onDownload: () => void;
  emptyText: string;
}

function parseHashLine(hash: string): number | null {
  const m = /^#L(\d+)$/.exec(hash);
  return m ? Number(m[1]) : null;
}

/** Approximate display width in `ch` (tabs to 8, wide CJK characters count double). */
function displayWidth(text: string): number {
  let width = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 9) width += 8 - (width % 8);
    else if (c === 27) continue;
    else width += c >= 0x2e80 && c <= 0xffef ? 2 : 1;
  }
  return width;
}

export function LogViewer({ sections, version, steps, live, jumpTo, onDownload, emptyText }: LogViewerProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [folded, setFolded] = useState<ReadonlySet<string>>(() => new Set());
  const [follow, setFollow] = useState(live && parseHashLine(window.location.hash) === null);
  const [targetLine, setTargetLine] = useState<number | null>(() => parseHashLine(window.location.hash));
  const [query, setQuery] = useState('');
  const debouncedQuery = useDebounced(query, 200);
  const [matchIndex, setMatchIndex] = useState(0);
  const maxWidthRef = useRef(0);

  const index = useMemo(
    () => buildRowIndex(sections, folded),
    // sections are mutated in place; version says when
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [sections, folded, version],
  );

  // search runs on a throttled version so a streaming log does not rescan every frame
  const [searchVersion, setSearchVersion] = useState(version);
  useEffect(() => {
    const id = setTimeout(() => setSearchVersion(version), live ? 1000 : 0);
    return () => clearTimeout(id);
  }, [version, live]);
  const matches: LogMatch[] = useMemo(
    () => searchSections(sections, debouncedQuery, { limit: 50_000 }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [sections, debouncedQuery, searchVersion],
  );
  useEffect(() => setMatchIndex(0), [debouncedQuery]);

  const virtualizer = useVirtualizer({
    count: index.totalRows,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 30,
  });

  const unfold = useCallback((key: string) => {
    setFolded((current) => {
      if (!current.has(key)) return current;
      const next = new Set(current);
      next.delete(key);
      return next;
    });
  }, []);

  const toggleFold = useCallback((key: string) => {
    setFolded((current) => {
      const next = new Set(current);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });
  }, []);

  /** Scrolls a global line number into view, unfolding its section first. */
  const revealLine = useCallback(
    (lineNumber: number) => {
      const loc = locateLine(index, lineNumber);
      if (!loc) return false;
      const section = index.sections[loc.sectionIndex];
      if (section && index.folded.has(section.key)) {
        unfold(section.key);
        return false; // retried after the re-render
      }
      const row = rowOfLine(index, lineNumber);
      if (row === null) return false;
      setFollow(false);
      virtualizer.scrollToIndex(row, { align: 'center' });
      return true;
    },
    [index, unfold, virtualizer],
  );

  // #L123 links: on load (once the line exists) and on hash changes
  const pendingTarget = useRef<number | null>(targetLine);
  useEffect(() => {
    const onHash = () => {
      const line = parseHashLine(window.location.hash);
      setTargetLine(line);
      pendingTarget.current = line;
      if (line !== null) setFollow(false);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    if (pendingTarget.current !== null && revealLine(pendingTarget.current)) pendingTarget.current = null;
  }, [revealLine, index, targetLine]);

  // current search match
  const currentMatch = matches.length > 0 ? matches[Math.min(matchIndex, matches.length - 1)] : undefined;
  useEffect(() => {
    if (currentMatch) revealLine(currentMatch.lineNumber);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [currentMatch?.lineNumber, debouncedQuery, matchIndex]);

  // jump to a step from the timeline
  useEffect(() => {
    if (!jumpTo) return;
    const sectionIndex = index.sections.findIndex((s) => s.stepId === jumpTo.stepId);
    if (sectionIndex === -1) return;
    const section = index.sections[sectionIndex] as LogSection;
    unfold(section.key);
    setFollow(false);
    virtualizer.scrollToIndex(index.rowStarts[sectionIndex] ?? 0, { align: 'start' });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [jumpTo?.nonce]);

  // follow the tail: stay at the bottom as lines arrive
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (follow && el) el.scrollTop = el.scrollHeight;
  }, [follow, index.totalRows, version]);

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < ROW_HEIGHT * 2;
    if (atBottom !== follow) setFollow(atBottom);
  };

  const stepById = useMemo(() => new Map(steps.map((s) => [s.id, s])), [steps]);
  const items = virtualizer.getVirtualItems();
  const currentMatchLine = currentMatch?.lineNumber ?? null;
  for (const item of items) {
    const row = rowAt(index, item.index);
    if (row?.kind === 'line') maxWidthRef.current = Math.max(maxWidthRef.current, displayWidth(row.text));
  }

  const allFolded = index.sections.length > 0 && index.sections.every((s) => folded.has(s.key));

  return (
    <section className="log-viewer card" aria-label="Log" data-testid="log-viewer">
      <LogToolbar
        query={query}
        onQuery={setQuery}
        matchCount={matches.length}
        matchIndex={matches.length === 0 ? 0 : Math.min(matchIndex, matches.length - 1) + 1}
        onNext={() => setMatchIndex((i) => (matches.length === 0 ? 0 : (i + 1) % matches.length))}
        onPrev={() => setMatchIndex((i) => (matches.length === 0 ? 0 : (i - 1 + matches.length) % matches.length))}
        follow={follow}
        onFollow={(on) => {
          setFollow(on);
          if (on && scrollRef.current) scrollRef.current.scrollTop = scrollRef.current.scrollHeight;
        }}
        allFolded={allFolded}
        onFoldAll={() => setFolded(allFolded ? new Set() : new Set(index.sections.map((s) => s.key)))}
        onDownload={onDownload}
        totalLines={index.totalLines}
        canFold={index.withHeaders}
      />
      <div ref={scrollRef} className="log-scroll" onScroll={onScroll} tabIndex={0} role="log" aria-live="off" aria-label="Log output" data-testid="log-scroll">
        {index.totalRows === 0 ? (
          <div className="log-empty">{emptyText}</div>
        ) : (
          <div className="log-content" style={{ height: virtualizer.getTotalSize(), width: `max(100%, ${maxWidthRef.current + GUTTER_CH + 4}ch)` }}>
            {items.map((item) => {
              const row = rowAt(index, item.index);
              if (!row) return null;
              if (row.kind === 'header') {
                return (
                  <LogSectionHeader
                    key={`h-${row.section.key}`}
                    title={row.section.title}
                    step={row.section.stepId === null ? undefined : stepById.get(row.section.stepId)}
                    folded={row.folded}
                    lineCount={row.lineCount}
                    onToggle={toggleFold}
                    sectionKey={row.section.key}
                    top={item.start}
                    stepId={row.section.stepId}
                  />
                );
              }
              return (
                <LogLine
                  key={`l-${row.lineNumber}`}
                  lineNumber={row.lineNumber}
                  text={row.text}
                  query={debouncedQuery}
                  isCurrentMatch={row.lineNumber === currentMatchLine}
                  isTarget={row.lineNumber === targetLine}
                  top={item.start}
                />
              );
            })}
          </div>
        )}
      </div>
    </section>
  );
}
