/**
 * "Export as YAML": a pipeline defined in the UI as the pipeline file that defines the same steps
 * (from the export endpoint), to download, copy, or open in the Pipeline file editor and commit.
 */
import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { exportPipelineYaml } from '../api/pipeline-file';
import { Dialog } from '../components/Dialog';
import { ErrorBanner, Loading } from '../components/Feedback';
import { useToast } from '../components/Toasts';
import { saveBlob } from '../lib/save-blob';
import '../styles/pipeline-file.css';

interface ExportYamlDialogProps {
  open: boolean;
  onClose: () => void;
  pipeline: { id: number; name: string };
}

export function ExportYamlDialog({ open, onClose, pipeline }: ExportYamlDialogProps) {
  const toast = useToast();
  const [yaml, setYaml] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (!open) return;
    const controller = new AbortController();
    setYaml(null);
    setError(null);
    exportPipelineYaml(pipeline.id, { signal: controller.signal })
      .then(setYaml)
      .catch((err: unknown) => {
        if (!controller.signal.aborted) setError(err);
      });
    return () => controller.abort();
  }, [open, pipeline.id]);

  const copy = async () => {
    if (yaml === null) return;
    try {
      await navigator.clipboard.writeText(yaml);
      toast('Copied');
    } catch {
      toast('Copying is not allowed here: select the text instead', 'error');
    }
  };

  return (
    <Dialog
      open={open}
      title={`${pipeline.name} as a pipeline file`}
      onClose={onClose}
      testId="export-yaml-dialog"
      wide
      footer={
        <>
          <Link className="btn" to={`/pipelines/file?from=${pipeline.id}`} data-testid="export-open-editor">
            Open in the file editor
          </Link>
          <button type="button" className="btn" onClick={() => void copy()} disabled={yaml === null}>
            Copy
          </button>
          <button
            type="button"
            className="btn btn-primary"
            disabled={yaml === null}
            onClick={() => yaml !== null && saveBlob(new Blob([yaml], { type: 'text/yaml' }), '.ansflow.yml')}
            data-testid="export-download"
          >
            Download .ansflow.yml
          </button>
        </>
      }
    >
      <p className="field-hint" style={{ marginBottom: 8 }}>
        Commit this as <code>.ansflow.yml</code> and set the pipeline&apos;s <em>Pipeline file</em> to that path: its runs then take their steps from the
        repository. Secret variables are not in the file.
      </p>
      {error ? (
        <ErrorBanner error={error} />
      ) : yaml === null ? (
        <Loading label="Exporting…" />
      ) : (
        <pre className="export-yaml" data-testid="export-yaml">
          {yaml}
        </pre>
      )}
    </Dialog>
  );
}
