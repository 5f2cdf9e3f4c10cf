/** Run / edit / duplicate / activate-deactivate / delete for one pipeline. */
import { useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { canEditPipeline, canRun, useAuth } from '../auth/AuthProvider';
import { deletePipeline, patchPipeline } from '../api/endpoints';
import { errorMessage } from '../api/api-error';
import type { PipelineSummary } from '../api/types';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { useToast } from '../components/Toasts';
import { ExportYamlDialog } from './ExportYamlDialog';
import { RunDialog } from './RunDialog';

interface PipelineActionsProps {
  pipeline: PipelineSummary & { variables?: Record<string, unknown> };
  onChanged: () => void;
  onDeleted?: () => void;
  compact?: boolean;
}

export function PipelineActions({ pipeline, onChanged, onDeleted, compact }: PipelineActionsProps) {
  const { user } = useAuth();
  const toast = useToast();
  const navigate = useNavigate();
  const [running, setRunning] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [busy, setBusy] = useState(false);
  const [exporting, setExporting] = useState(false);
  const editable = canEditPipeline(user, pipeline.created_by);
  const size = compact ? 'btn-sm' : '';

  const toggleStatus = async () => {
    setBusy(true);
    try {
      const status = pipeline.status === 'active' ? 'inactive' : 'active';
      await patchPipeline(pipeline.id, { status });
      toast(`${pipeline.name} is now ${status}`);
      onChanged();
    } catch (err) {
      toast(errorMessage(err), 'error');
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="row" style={{ justifyContent: 'flex-end', flexWrap: compact ? 'nowrap' : 'wrap' }}>
      {canRun(user) && (
        <button
          type="button"
          className={`btn btn-primary ${size}`}
          onClick={() => setRunning(true)}
          disabled={pipeline.status !== 'active'}
          title={pipeline.status !== 'active' ? 'Activate the pipeline to run it' : undefined}
          data-testid="run-pipeline"
        >
          ▶ Run
        </button>
      )}
      {editable && (
        <Link className={`btn ${size}`} to={`/pipelines/${pipeline.id}/edit`} data-testid="edit-pipeline">
          Edit
        </Link>
      )}
      {!compact && canRun(user) && (
        <button type="button" className={`btn ${size}`} onClick={() => navigate(`/pipelines/new?from=${pipeline.id}`)} data-testid="duplicate-pipeline">
          Duplicate
        </button>
      )}
      {!compact && (
        <button type="button" className={`btn ${size}`} onClick={() => setExporting(true)} data-testid="export-yaml">
          Export YAML
        </button>
      )}
      {!compact && editable && (
        <button type="button" className={`btn ${size}`} onClick={() => void toggleStatus()} disabled={busy} data-testid="toggle-pipeline-status">
          {pipeline.status === 'active' ? 'Deactivate' : 'Activate'}
        </button>
      )}
      {!compact && editable && (
        <button type="button" className={`btn btn-danger ${size}`} onClick={() => setDeleting(true)} data-testid="delete-pipeline">
          Delete
        </button>
      )}
      {exporting && <ExportYamlDialog open onClose={() => setExporting(false)} pipeline={pipeline} />}
      <RunDialog open={running} onClose={() => setRunning(false)} pipeline={pipeline} />
      <ConfirmDialog
        open={deleting}
        title="Delete pipeline"
        danger
        confirmLabel="Delete"
        message={
          <p>
            Delete <strong>{pipeline.name}</strong>? Its definition is removed; past runs keep their history.
          </p>
        }
        onClose={() => setDeleting(false)}
        onConfirm={async () => {
          await deletePipeline(pipeline.id);
          toast(`Deleted ${pipeline.name}`);
          onDeleted?.();
        }}
      />
    </div>
  );
}
