/**
 * Write and check a pipeline file (`.ansflow.yml`): a YAML editor whose problems the server's linter
 * reports inline as you type, and the plan it expands to drawn as a graph. `?from=ID` starts from a
 * stored pipeline exported as YAML. Nothing here is saved: the file lives in the repository.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { errorMessage } from '../api/api-error';
import { exportPipelineYaml, lintPipelineFile, type LintResult } from '../api/pipeline-file';
import type { PipelineFileError } from '../api/types';
import { ErrorBanner, Loading } from '../components/Feedback';
import { LazyStepGraph } from '../graph/LazyStepGraph';
import { saveBlob } from '../lib/save-blob';
import { useAsync } from '../lib/use-async';
import { FileErrorList } from '../pipeline-file/FileErrorList';
import { LazyYamlEditor } from '../pipeline-file/LazyYamlEditor';
import type { YamlEditorHandle } from '../pipeline-file/YamlEditor';
import { exampleFile } from '../pipeline-file/example-file';
import '../styles/pipeline-file.css';

type Check = { state: 'checking' } | { state: 'done'; result: LintResult } | { state: 'failed'; error: unknown };

export default function PipelineFilePage() {
  const [params] = useSearchParams();
  const from = params.get('from');
  const source = useAsync((signal) => (from ? exportPipelineYaml(from, { signal }) : Promise.resolve(exampleFile(window.location.origin))), [from]);
  const editor = useRef<YamlEditorHandle>(null);
  const text = useRef('');
  const [check, setCheck] = useState<Check>({ state: 'checking' });
  const sequence = useRef(0);

  // Called by the editor after typing stops; only the newest answer is shown.
  const lint = useCallback(async (content: string): Promise<{ errors: PipelineFileError[]; warnings?: PipelineFileError[] }> => {
    const mine = ++sequence.current;
    setCheck({ state: 'checking' });
    try {
      const result = await lintPipelineFile(content);
      if (mine === sequence.current) setCheck({ state: 'done', result });
      return result;
    } catch (error) {
      if (mine === sequence.current) setCheck({ state: 'failed', error });
      return { errors: [] };
    }
  }, []);

  useEffect(() => {
    if (source.data !== undefined) text.current = source.data;
  }, [source.data]);

  if (source.data === undefined || source.loading) {
    return <div className="page">{source.error ? <ErrorBanner error={source.error} onRetry={source.reload} /> : <Loading label="Loading the file…" />}</div>;
  }
  const result = check.state === 'done' ? check.result : null;

  return (
    <div className="page page-wide pipeline-file-page">
      <div className="breadcrumbs">
        <Link to="/pipelines">Pipelines</Link>
        <span aria-hidden="true">/</span>
        <span>Pipeline file</span>
      </div>
      <div className="page-head">
        <div style={{ minWidth: 0 }}>
          <h1>Pipeline file</h1>
          <p className="subtitle">
            Write a <code>.ansflow.yml</code> and check it as you type. Set the pipeline&apos;s <em>Pipeline file</em> to its path, and each run takes its steps
            from the file at the run&apos;s commit.
          </p>
        </div>
        <div className="row">
          <a className="btn" href="/api/schemas/pipeline-file.json" target="_blank" rel="noreferrer">
            JSON Schema
          </a>
          <button
            type="button"
            className="btn"
            onClick={() => saveBlob(new Blob([text.current], { type: 'text/yaml' }), '.ansflow.yml')}
            data-testid="file-download"
          >
            Download
          </button>
        </div>
      </div>

      <div className="file-layout">
        <section className="card file-editor-card" aria-labelledby="file-editor-title">
          <div className="card-head">
            <h2 id="file-editor-title">.ansflow.yml</h2>
            <CheckStatus check={check} />
          </div>
          <LazyYamlEditor
            key={from ?? 'example'}
            ref={editor}
            initialValue={source.data}
            onChange={(t) => (text.current = t)}
            lint={lint}
            ariaLabel="Pipeline file (YAML)"
          />
        </section>

        <section className="card card-body file-problems" aria-labelledby="file-problems-title">
          <h2 id="file-problems-title">Problems</h2>
          {check.state === 'failed' && (
            <div className="banner banner-error" role="alert" data-testid="lint-failed">
              Could not check the file: {errorMessage(check.error)}
            </div>
          )}
          {result && result.valid && (
            <p className="file-ok" data-testid="lint-valid">
              No problems: {result.steps.length} step{result.steps.length === 1 ? '' : 's'} in the plan.
            </p>
          )}
          {result && result.errors.length > 0 && <FileErrorList errors={result.errors} onPick={(e) => editor.current?.goTo(e.line ?? 1, e.column ?? 1)} />}
          {result && result.warnings && result.warnings.length > 0 && (
            <>
              <h3 className="file-warnings-title">Not checked here</h3>
              <FileErrorList errors={result.warnings} onPick={(e) => editor.current?.goTo(e.line ?? 1, e.column ?? 1)} testId="file-warnings" />
            </>
          )}
          {check.state === 'checking' && !result && <p className="faint">Checking…</p>}
        </section>
      </div>

      <section className="card file-plan" aria-labelledby="file-plan-title" data-testid="file-plan">
        <div className="card-head">
          <h2 id="file-plan-title">Plan</h2>
          <span className="faint">what each step waits on; matrix cells boxed</span>
        </div>
        {result && result.valid && result.steps.length > 0 ? (
          <LazyStepGraph steps={result.steps} label="The plan: steps and what each waits on" testId="plan-graph" />
        ) : (
          <p className="faint graph-empty">
            {result && !result.valid ? 'Fix the problems above to see the plan.' : 'The plan appears once the file is checked.'}
          </p>
        )}
      </section>
    </div>
  );
}

function CheckStatus({ check }: { check: Check }) {
  if (check.state === 'checking') return <span className="badge tone-info">checking…</span>;
  if (check.state === 'failed') return <span className="badge tone-warning">not checked</span>;
  const n = check.result.errors.length;
  return check.result.valid ? (
    <span className="badge tone-success" data-testid="lint-badge" data-valid="true">
      valid
    </span>
  ) : (
    <span className="badge tone-danger" data-testid="lint-badge" data-valid="false">
      {n} problem{n === 1 ? '' : 's'}
    </span>
  );
}
