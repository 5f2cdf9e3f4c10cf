/** All runs across pipelines, filterable by status (and by pipeline through `?pipeline=`). */
import { useSearchParams } from 'react-router-dom';
import { RunHistory } from '../runs/RunHistory';

export default function RunsPage() {
  const [params, setParams] = useSearchParams();
  const pipeline = params.get('pipeline') ?? '';
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>Runs</h1>
          <p className="subtitle">Every run of every pipeline, newest first. Statuses update live.</p>
        </div>
      </div>
      <RunHistory
        pipelineFilter={pipeline || undefined}
        headerExtra={
          pipeline ? (
            <button
              type="button"
              className="chip"
              onClick={() => {
                const next = new URLSearchParams(params);
                next.delete('pipeline');
                setParams(next);
              }}
            >
              pipeline #{pipeline} ✕
            </button>
          ) : null
        }
      />
    </div>
  );
}
