/**
 * One rendered log row. Text goes into React text nodes inside spans whose class names come only
 * from the ANSI parser's fixed set: log content can never become markup, an attribute or a link.
 */
import { memo } from 'react';
import { parseAnsi } from './ansi';
import { highlightSpans } from './log-search';
import { StatusIcon } from '../components/StatusIcon';
import type { RunStep } from '../api/types';
import { formatDuration } from '../lib/format';

interface LineProps {
  lineNumber: number;
  text: string;
  query: string;
  isCurrentMatch: boolean;
  isTarget: boolean;
  /** Offset from the top of the scroll content, in pixels. */
  top: number;
}

export const LogLine = memo(function LogLine({ lineNumber, text, query, isCurrentMatch, isTarget, top }: LineProps) {
  const spans = parseAnsi(text);
  const parts = query === '' ? spans.map((s) => ({ ...s, match: false })) : highlightSpans(spans, query);
  return (
    <div
      className={`log-row log-line${isTarget ? ' is-target' : ''}${isCurrentMatch ? ' is-current-match' : ''}`}
      style={{ transform: `translateY(${top}px)` }}
      data-testid="log-line"
      data-line={lineNumber}
    >
      <a className="log-ln" href={`#L${lineNumber}`} aria-label={`Line ${lineNumber}`} tabIndex={-1}>
        {lineNumber}
      </a>
      <span className="log-text">
        {parts.map((part, i) => {
          const className = [...part.classes, part.match ? 'log-match' : ''].filter(Boolean).join(' ');
          return className === '' ? (
            <span key={i}>{part.text}</span>
          ) : (
            <span key={i} className={className}>
              {part.text}
            </span>
          );
        })}
      </span>
    </div>
  );
});

interface HeaderProps {
  title: string;
  step: RunStep | undefined;
  folded: boolean;
  lineCount: number;
  onToggle: (stepKey: string) => void;
  sectionKey: string;
  top: number;
  stepId: number | null;
}

export const LogSectionHeader = memo(function LogSectionHeader({ title, step, folded, lineCount, onToggle, sectionKey, top, stepId }: HeaderProps) {
  return (
    <div className="log-row log-header" style={{ transform: `translateY(${top}px)` }} data-testid="log-section-header" data-step-id={stepId ?? ''}>
      <button type="button" className="log-fold" aria-expanded={!folded} onClick={() => onToggle(sectionKey)} data-testid="log-fold">
        <span className="log-chevron" aria-hidden="true">
          {folded ? '▸' : '▾'}
        </span>
        {step && <StatusIcon status={step.status} />}
        <span className="log-header-title">{title}</span>
      </button>
      <span className="log-header-meta">
        {lineCount} line{lineCount === 1 ? '' : 's'}
        {step?.duration_ms != null ? ` · ${formatDuration(step.duration_ms)}` : ''}
      </span>
    </div>
  );
});
