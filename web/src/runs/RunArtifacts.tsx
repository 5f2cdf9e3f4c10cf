/**
 * The run page's artifacts (docs/artifacts.md): each with its size and file count, a link to the
 * whole .tar.gz and one to each file, what was refused (links are never followed) and why a failed
 * one was not stored. Downloads need the access token, so a link's click fetches the bytes and saves
 * them; the href stays the API's address (copyable for curl with a token).
 */
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { downloadArtifact, listArtifacts } from '../api/endpoints';
import { errorMessage } from '../api/api-error';
import type { Artifact } from '../api/types';
import { ErrorBanner } from '../components/Feedback';
import { RelativeTime } from '../components/RelativeTime';
import { useToast } from '../components/Toasts';
import { formatBytes } from '../lib/format';
import { useAsync } from '../lib/use-async';
import { saveBlob } from '../lib/save-blob';

interface RunArtifactsProps {
  runId: number;
  /** Changes when the run may have stored more (a step finished): the list is read again. */
  version: string;
}

export function RunArtifacts({ runId, version }: RunArtifactsProps) {
  const list = useAsync((signal) => listArtifacts(runId, { signal }), [runId, version]);
  const artifacts = list.data?.results ?? [];
  if (list.error) return <ErrorBanner error={list.error} onRetry={list.reload} />;
  if (artifacts.length === 0) return null;
  return (
    <section className="card run-artifacts" aria-label="Artifacts" data-testid="run-artifacts">
      <div className="card-head">
        <h2>Artifacts</h2>
        <span className="faint tabular">{formatBytes(artifacts.reduce((sum, a) => sum + (a.status === 'stored' ? a.size_bytes : 0), 0))}</span>
      </div>
      <ul className="artifact-list">
        {artifacts.map((a) => (
          <ArtifactRow key={a.id} artifact={a} reused={a.run_id !== runId} />
        ))}
      </ul>
    </section>
  );
}

function DownloadLink({ href, filename, children, testId }: { href: string; filename: string; children: React.ReactNode; testId: string }) {
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  return (
    <a
      href={href}
      download={filename}
      aria-busy={busy}
      data-testid={testId}
      onClick={(event) => {
        event.preventDefault();
        if (busy) return;
        setBusy(true);
        downloadArtifact(href)
          .then((blob) => saveBlob(blob, filename))
          .catch((err: unknown) => toast(errorMessage(err), 'error'))
          .finally(() => setBusy(false));
      }}
    >
      {children}
    </a>
  );
}

function ArtifactRow({ artifact: a, reused }: { artifact: Artifact; reused: boolean }) {
  const [open, setOpen] = useState(false);
  const more = a.file_count - a.files.length;
  return (
    <li className="artifact" data-testid="artifact" data-artifact-name={a.name} data-status={a.status}>
      <div className="artifact-head">
        {a.status === 'stored' ? (
          <DownloadLink href={a.download_url} filename={`${a.name}.tar.gz`} testId="artifact-download">
            ⤓ <strong>{a.name}</strong>.tar.gz
          </DownloadLink>
        ) : (
          <strong className="artifact-name">{a.name}</strong>
        )}
        <span className="artifact-meta faint tabular">
          {a.status === 'stored' && (
            <>
              <span data-testid="artifact-size">{formatBytes(a.size_bytes)}</span> · {a.file_count.toLocaleString()} {a.file_count === 1 ? 'file' : 'files'}
            </>
          )}
          {reused && (
            <Link className="chip" to={`/runs/${a.run_id}`} title="Stored by the run this one retries (its step was reused)" data-testid="artifact-reused">
              from the original run
            </Link>
          )}
          {a.expires_at && (
            <span title={new Date(a.expires_at).toLocaleString()}>
              {' '}
              · expires <RelativeTime iso={a.expires_at} />
            </span>
          )}
        </span>
        {a.status === 'stored' && a.files.length > 0 && (
          <button type="button" className="btn btn-sm" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="artifact-files-toggle">
            {open ? 'Hide files' : 'Files'}
          </button>
        )}
      </div>
      {a.status === 'failed' && (
        <div className="banner banner-error artifact-error" role="alert" data-testid="artifact-error">
          Not stored: {a.error ?? 'unknown reason'}
        </div>
      )}
      {a.refused.length > 0 && (
        <details className="artifact-refused" data-testid="artifact-refused">
          <summary className="muted">
            {a.refused.length} {a.refused.length === 1 ? 'path' : 'paths'} refused
          </summary>
          <ul>
            {a.refused.map((r) => (
              <li key={r.path}>
                <code>{r.path}</code> <span className="faint">— {r.reason}</span>
              </li>
            ))}
          </ul>
        </details>
      )}
      {open && (
        <ul className="artifact-files" data-testid="artifact-files">
          {a.files.map((f) => (
            <li key={f.path}>
              <DownloadLink href={f.url} filename={f.path.split('/').pop() ?? 'file'} testId="artifact-file">
                <code className="truncate">{f.path}</code>
              </DownloadLink>
              <span className="faint tabular" title={`SHA-256 ${f.sha256}`} data-testid="artifact-file-size">
                {formatBytes(f.size_bytes)}
              </span>
            </li>
          ))}
          {more > 0 && <li className="faint">and {more.toLocaleString()} more (in the .tar.gz)</li>}
        </ul>
      )}
    </li>
  );
}
