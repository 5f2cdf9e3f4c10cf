/** One pipeline: its definition at a glance, actions, and its run history. */
import { Link, useNavigate, useParams } from 'react-router-dom';
import { getPipeline } from '../api/endpoints';
import { ErrorBanner, Loading } from '../components/Feedback';
import { RelativeTime } from '../components/RelativeTime';
import { PipelineActions } from '../pipelines/PipelineActions';
import { StepsOverview } from '../pipelines/StepsOverview';
import { LazyStepGraph } from '../graph/LazyStepGraph';
import { RunHistory } from '../runs/RunHistory';
import { useAsync } from '../lib/use-async';
import { SchedulesCard } from '../delivery/SchedulesCard';
import { canEditPipeline, useAuth } from '../auth/AuthProvider';
import { useProjects } from '../projects/use-projects';

export default function PipelineDetailPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const pipeline = useAsync((signal) => getPipeline(id, { signal }), [id]);
  const { user } = useAuth();
  const { projects } = useProjects();
  const p = pipeline.data;

  if (!p) {
    return <div className="page">{pipeline.error ? <ErrorBanner error={pipeline.error} onRetry={pipeline.reload} /> : <Loading />}</div>;
  }
  const variables = Object.entries(p.variables ?? {});
  // Schedules are changed as the pipeline is: its creator (a developer), the project's maintainers and owners, admins.
  const projectRole = projects.find((pr) => pr.id === p.project_id)?.my_role ?? null;
  const editable = canEditPipeline(user, p.created_by) || projectRole === 'owner' || projectRole === 'maintainer';
  return (
    <div className="page">
      <div className="breadcrumbs">
        <Link to="/pipelines">Pipelines</Link>
        <span aria-hidden="true">/</span>
        <span>{p.name}</span>
      </div>
      <div className="page-head">
        <div style={{ minWidth: 0 }}>
          <div className="row">
            <h1 data-testid="pipeline-title">{p.name}</h1>
            <span className={`badge ${p.status === 'active' ? 'tone-success' : ''}`} data-testid="pipeline-status">
              {p.status}
            </span>
          </div>
          {p.description && <p className="subtitle">{p.description}</p>}
        </div>
        <PipelineActions pipeline={p} onChanged={pipeline.reload} onDeleted={() => navigate('/pipelines')} />
      </div>

      <div className="grid-2" style={{ marginBottom: 16 }}>
        <div className="card card-body">
          <dl className="meta-list">
            <dt>Repository</dt>
            <dd className="mono">{p.repository_url || <span className="faint">—</span>}</dd>
            <dt>Branch</dt>
            <dd>
              <span className="chip mono">{p.branch}</span>
            </dd>
            {p.config_path && (
              <>
                <dt>Pipeline file</dt>
                <dd className="mono" data-testid="pipeline-config-path">
                  {p.config_path}
                </dd>
              </>
            )}
            <dt>Triggers</dt>
            <dd>
              {p.trigger_events.length > 0 ? (
                p.trigger_events.map((t) => (
                  <span key={t} className="chip" style={{ marginRight: 4 }}>
                    {t}
                  </span>
                ))
              ) : (
                <span className="faint">manual only</span>
              )}
            </dd>
            <dt>Variables</dt>
            <dd>
              {variables.length === 0 && <span className="faint">none</span>}
              {variables.map(([name, v]) => (
                <span key={name} className="chip mono" style={{ marginRight: 4 }} title={typeof v === 'object' && v.secret ? 'secret' : undefined}>
                  {name}
                  {typeof v === 'object' && v.secret ? ' 🔒' : ''}
                </span>
              ))}
            </dd>
            {(p.inputs ?? []).length > 0 && (
              <>
                <dt>Inputs</dt>
                <dd data-testid="pipeline-inputs">
                  {(p.inputs ?? []).map((i) => (
                    <span key={i.name} className="chip mono" style={{ marginRight: 4 }} title={i.description}>
                      {i.name}: {i.type === 'choice' ? (i.options ?? []).join(' | ') : i.type}
                      {i.required ? ' *' : ''}
                    </span>
                  ))}
                </dd>
              </>
            )}
            <dt>Caches</dt>
            <dd>
              <Link to={`/pipelines/${p.id}/caches`} data-testid="pipeline-caches-link">
                Sizes, hit rate, clear
              </Link>
            </dd>
            <dt>Created</dt>
            <dd>
              <RelativeTime iso={p.created_at} /> {p.created_by && <span className="muted">by {p.created_by.username}</span>}
            </dd>
            <dt>Updated</dt>
            <dd>
              <RelativeTime iso={p.updated_at} />
            </dd>
          </dl>
        </div>
        <div className="card card-body">
          <h3 style={{ marginBottom: 10 }}>Steps</h3>
          {p.config_path ? (
            <p className="muted" data-testid="steps-from-file">
              Each run takes its steps from <code>{p.config_path}</code> in the repository, at the run&apos;s commit; a run&apos;s page shows what it ran.
            </p>
          ) : p.steps.some((st) => Array.isArray(st.needs)) ? (
            <LazyStepGraph steps={p.steps} label="Steps and what each waits on" testId="pipeline-graph" />
          ) : (
            <StepsOverview steps={p.steps} />
          )}
        </div>
      </div>
      <SchedulesCard pipeline={p} editable={editable} />
      <RunHistory pipelineId={p.id} />
    </div>
  );
}
