/** Problems in a pipeline file: where (file, line:column, field path) and what. Shared by the lint page and a run that could not start. */
import type { PipelineFileError } from '../api/types';
import '../styles/pipeline-file.css';

interface FileErrorListProps {
  errors: PipelineFileError[];
  /** Makes each place a button (the editor moves its cursor there). */
  onPick?: (error: PipelineFileError) => void;
  testId?: string;
}

export function errorPlace(e: PipelineFileError): string {
  const at = e.line ? `${e.line}:${e.column ?? 1}` : '';
  return [e.file, at].filter(Boolean).join(':');
}

export function FileErrorList({ errors, onPick, testId = 'file-errors' }: FileErrorListProps) {
  return (
    <ul className="file-errors" data-testid={testId}>
      {errors.map((e, i) => {
        const place = errorPlace(e);
        return (
          <li key={i} data-testid="file-error" data-line={e.line ?? ''} data-path={e.path}>
            {place &&
              (onPick && e.line ? (
                <button type="button" className="link-button mono" onClick={() => onPick(e)}>
                  {place}
                </button>
              ) : (
                <span className="mono">{place}</span>
              ))}
            {e.path && <code className="file-error-path">{e.path}</code>}
            <span className="file-error-message">{e.message}</span>
          </li>
        );
      })}
    </ul>
  );
}
