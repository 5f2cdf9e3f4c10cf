/**
 * Create, edit or duplicate (`/pipelines/new?from=ID`) a pipeline. Step forms come from each step
 * type's config_schema; client checks and API validation errors appear next to the field they name.
 */
import { RepositoryCredentialField } from '../pipelines/RepositoryCredentialField';
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { Link, useBlocker, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { createPipeline, getPipeline, listAllCredentials, listStepTypes, replacePipeline } from '../api/endpoints';
import { ForgeFields } from '../pipelines/ForgeFields';
import type { CredentialSummary } from '../api/types';
import { ApiError, errorMessage } from '../api/api-error';
import { ErrorBanner, Loading } from '../components/Feedback';
import { FormField, fieldAria } from '../components/FormField';
import { useToast } from '../components/Toasts';
import {
  buildPayload,
  changeStepType,
  emptyForm,
  errorMapFromDetails,
  formFromPipeline,
  isShownInline,
  moveItem,
  newStep,
  segmentSteps,
  stepHasErrors,
  TRIGGER_EVENTS,
  variableErrors,
  type ErrorMap,
  type PipelineForm,
  type StepTypeInfo,
} from '../forms/pipeline-form-model';
import { StepCard } from '../pipelines/editor/StepCard';
import { VariablesEditor } from '../pipelines/editor/VariablesEditor';
import { InputsEditor } from '../pipelines/editor/InputsEditor';
import { FieldErrors } from '../components/FieldErrors';
import '../styles/editor.css';
import { ProjectSelect } from '../projects/ProjectField';
import { useCurrentProject } from '../projects/current-project';

const TRIGGER_LABELS: Record<string, string> = { push: 'Push', pull_request: 'Pull / merge request', tag: 'Tag' };

export default function PipelineEditorPage() {
  const { id } = useParams();
  const [params] = useSearchParams();
  const copyFrom = params.get('from');
  const navigate = useNavigate();
  const toast = useToast();
  const [types, setTypes] = useState<StepTypeInfo[] | null>(null);
  const [credentials, setCredentials] = useState<CredentialSummary[] | null>(null);
  const [form, setForm] = useState<PipelineForm | null>(null);
  // A new pipeline goes to the project chosen in the header (or the default project).
  const currentProject = useCurrentProject();
  const [loadError, setLoadError] = useState<unknown>(null);
  const [errors, setErrors] = useState<ErrorMap>({});
  const [summary, setSummary] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [dirty, setDirty] = useState(false);
  const [newType, setNewType] = useState('shell_command');
  const formRef = useRef<HTMLFormElement>(null);
  const isEdit = id !== undefined;

  useEffect(() => {
    const controller = new AbortController();
    const source = id ?? copyFrom;
    setForm(null);
    setLoadError(null);
    Promise.all([listStepTypes({ signal: controller.signal }), source ? getPipeline(source, { signal: controller.signal }) : Promise.resolve(null)])
      .then(([typeList, pipeline]) => {
        const t = typeList.results as StepTypeInfo[];
        setTypes(t);
        if (t.length > 0 && !t.some((x) => x.id === 'shell_command')) setNewType(t[0]!.id);
        setForm(
          pipeline
            ? formFromPipeline(pipeline, t, !isEdit)
            : { ...emptyForm(), project: currentProject, steps: t.some((x) => x.id === 'shell_command') ? [newStep(t, 'shell_command', [])] : [] },
        );
        setDirty(false);
      })
      .catch((err: unknown) => {
        if (!controller.signal.aborted) setLoadError(err);
      });
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the header's project when the editor opens, not later
  }, [id, copyFrom, isEdit]);

  // The steps' credential choices. Not loading them never blocks editing: a step keeps the name it has.
  useEffect(() => {
    const controller = new AbortController();
    listAllCredentials({ signal: controller.signal })
      .then((list) => setCredentials([...list].sort((a, b) => a.name.localeCompare(b.name))))
      .catch(() => {
        if (!controller.signal.aborted) setCredentials(null);
      });
    return () => controller.abort();
  }, []);

  // leaving with unsaved changes asks first
  const blocker = useBlocker(({ currentLocation, nextLocation }) => dirty && !saving && currentLocation.pathname !== nextLocation.pathname);
  useEffect(() => {
    if (blocker.state === 'blocked') {
      if (window.confirm('Leave without saving your changes?')) blocker.proceed();
      else blocker.reset();
    }
  }, [blocker]);
  useEffect(() => {
    if (!dirty) return;
    const onBeforeUnload = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [dirty]);

  const update = (patch: Partial<PipelineForm>) => {
    setForm((f) => (f ? { ...f, ...patch } : f));
    setDirty(true);
  };

  const summaryErrors = useMemo(() => Object.entries(errors).filter(([path]) => !isShownInline(path, form?.steps.length ?? 0)), [errors, form?.steps.length]);
  const errorCount = Object.values(errors).reduce((n, m) => n + m.length, 0);

  const focusFirstError = () => {
    requestAnimationFrame(() => {
      const el = formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"], [data-testid="field-error"]');
      el?.scrollIntoView({ block: 'center', behavior: 'smooth' });
      if (el && 'focus' in el && el.matches('input, select, textarea')) el.focus({ preventScroll: true });
    });
  };

  const save = async (event?: FormEvent) => {
    event?.preventDefault();
    if (!form || !types) return;
    const { payload, errors: clientErrors } = buildPayload(form, types);
    if (Object.keys(clientErrors).length > 0) {
      setErrors(clientErrors);
      setSummary('Fix the highlighted fields.');
      focusFirstError();
      return;
    }
    setSaving(true);
    setErrors({});
    setSummary(null);
    try {
      const saved = isEdit ? await replacePipeline(id, payload) : await createPipeline(payload);
      setDirty(false);
      toast(isEdit ? 'Pipeline saved' : 'Pipeline created');
      // let the blocker see the clean state before navigating
      setTimeout(() => navigate(`/pipelines/${saved.id}`), 0);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'RESOURCE_CONFLICT') {
        setErrors({ name: [err.message || 'A pipeline with this name already exists'] });
        setSummary('A pipeline with this name already exists.');
      } else if (err instanceof ApiError && Object.keys(err.details).length > 0) {
        setErrors(errorMapFromDetails(err.details));
        setSummary(err.message || 'The server rejected some fields.');
      } else {
        setSummary(errorMessage(err));
      }
      focusFirstError();
    } finally {
      setSaving(false);
    }
  };

  if (loadError) {
    return (
      <div className="page">
        <ErrorBanner error={loadError} />
      </div>
    );
  }
  if (!form || !types) {
    return (
      <div className="page">
        <Loading />
      </div>
    );
  }

  const title = isEdit ? `Edit ${form.name || 'pipeline'}` : copyFrom ? 'Duplicate pipeline' : 'New pipeline';
  const setStep = (index: number, step: PipelineForm['steps'][number]) => update({ steps: form.steps.map((s, i) => (i === index ? step : s)) });
  const segments = segmentSteps(form.steps);

  return (
    <div className="page editor-page">
      <div className="breadcrumbs">
        <Link to="/pipelines">Pipelines</Link>
        <span aria-hidden="true">/</span>
        <span>{isEdit ? 'Edit' : 'New'}</span>
      </div>
      <form ref={formRef} onSubmit={save} noValidate data-testid="pipeline-editor">
        <div className="page-head">
          <h1>{title}</h1>
          <div className="row">
            <button type="button" className="btn" onClick={() => navigate(-1)}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary" disabled={saving} data-testid="editor-save">
              {saving ? 'Saving…' : isEdit ? 'Save changes' : 'Create pipeline'}
            </button>
          </div>
        </div>

        {summary && (
          <div className="banner banner-error" role="alert" data-testid="editor-errors" style={{ marginBottom: 16 }}>
            <div>
              <strong>{summary}</strong>
              {errorCount > 0 && (
                <span>
                  {' '}
                  ({errorCount} problem{errorCount === 1 ? '' : 's'})
                </span>
              )}
              {summaryErrors.length > 0 && (
                <ul>
                  {summaryErrors.map(([path, messages]) => (
                    <li key={path} data-testid="field-error" data-field={path}>
                      <code>{path}</code>: {messages.join(' · ')}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          </div>
        )}

        <div className="editor-layout">
          <div className="stack">
            <section className="card card-body stack" aria-labelledby="general-title">
              <h2 id="general-title">General</h2>
              <div className="form-grid">
                <FormField id="pl-name" label="Name" required errors={errors.name} errorPath="name">
                  <input
                    className="input"
                    {...fieldAria('pl-name', errors.name)}
                    value={form.name}
                    onChange={(e) => update({ name: e.target.value })}
                    autoFocus={!isEdit}
                    data-testid="editor-name"
                  />
                </FormField>
                <FormField
                  id="pl-status"
                  label="Status"
                  errors={errors.status}
                  errorPath="status"
                  hint="Inactive pipelines are not triggered by webhooks and cannot be run."
                >
                  <select
                    className="select"
                    {...fieldAria('pl-status', errors.status, 'x')}
                    value={form.status}
                    onChange={(e) => update({ status: e.target.value === 'inactive' ? 'inactive' : 'active' })}
                    data-testid="editor-status"
                  >
                    <option value="active">Active</option>
                    <option value="inactive">Inactive</option>
                  </select>
                </FormField>
                <FormField id="pl-description" label="Description" errors={errors.description} errorPath="description" className="full">
                  <input
                    className="input"
                    {...fieldAria('pl-description', errors.description)}
                    value={form.description}
                    onChange={(e) => update({ description: e.target.value })}
                    data-testid="editor-description"
                  />
                </FormField>
              </div>
            </section>

            <section className="card card-body stack" aria-labelledby="source-title">
              <h2 id="source-title">Source and triggers</h2>
              <div className="form-grid">
                <FormField
                  id="pl-repo"
                  label="Repository URL"
                  errors={errors.repository_url}
                  errorPath="repository_url"
                  hint="Webhook pushes to this repository trigger the pipeline."
                >
                  <input
                    className="input mono"
                    {...fieldAria('pl-repo', errors.repository_url, 'x')}
                    value={form.repositoryUrl}
                    placeholder="https://github.com/org/repo.git"
                    onChange={(e) => update({ repositoryUrl: e.target.value })}
                    spellCheck={false}
                    data-testid="editor-repository"
                  />
                </FormField>
                <FormField id="pl-branch" label="Branch" errors={errors.branch} errorPath="branch">
                  <input
                    className="input mono"
                    {...fieldAria('pl-branch', errors.branch)}
                    value={form.branch}
                    onChange={(e) => update({ branch: e.target.value })}
                    spellCheck={false}
                    data-testid="editor-branch"
                  />
                </FormField>
                <FormField
                  id="pl-config-path"
                  label="Pipeline file"
                  errors={errors.config_path}
                  errorPath="config_path"
                  className="full"
                  hint={
                    <>
                      A path in the repository, like <code>.ansflow.yml</code>: each run then takes its steps from that file at the run&apos;s commit, and the
                      steps below are not used. Empty: the steps below. <Link to="/pipelines/file">Write and check a pipeline file</Link>
                    </>
                  }
                >
                  <input
                    className="input mono"
                    {...fieldAria('pl-config-path', errors.config_path, 'x')}
                    value={form.configPath}
                    placeholder=".ansflow.yml"
                    onChange={(e) => update({ configPath: e.target.value })}
                    spellCheck={false}
                    autoCapitalize="off"
                    data-testid="editor-config-path"
                  />
                </FormField>
                <RepositoryCredentialField
                  value={form.repositoryCredential}
                  credentials={credentials}
                  errors={errors.repository_credential}
                  onChange={(repositoryCredential) => update({ repositoryCredential })}
                />
                <fieldset className="field full trigger-set">
                  <legend className="field-label">Trigger on</legend>
                  <div className="row" style={{ gap: 16 }}>
                    {TRIGGER_EVENTS.map((event) => (
                      <label key={event} className="check">
                        <input
                          type="checkbox"
                          checked={form.triggerEvents.includes(event)}
                          onChange={(e) =>
                            update({ triggerEvents: e.target.checked ? [...form.triggerEvents, event] : form.triggerEvents.filter((x) => x !== event) })
                          }
                          data-testid={`editor-trigger-${event}`}
                        />
                        {TRIGGER_LABELS[event]}
                      </label>
                    ))}
                  </div>
                  <FieldErrors messages={errors.trigger_events} path="trigger_events" />
                </fieldset>
                <div className="field">
                  <label htmlFor="pl-project">Project</label>
                  <ProjectSelect
                    id="pl-project"
                    value={form.project}
                    onChange={(project) => update({ project })}
                    testId="editor-project"
                    describedBy="pl-project-hint"
                  />
                  <div className="field-hint" id="pl-project-hint">
                    Its members see the pipeline and its runs; its steps may use this project&apos;s credentials only.
                  </div>
                  <FieldErrors messages={errors.project} path="project" />
                </div>
                <div className="field full">
                  <label className="check">
                    <input
                      type="checkbox"
                      checked={form.secretsForForks}
                      onChange={(e) => update({ secretsForForks: e.target.checked })}
                      aria-describedby="pl-forks-hint"
                      data-testid="editor-secrets-for-forks"
                    />
                    Give secrets to pull requests from forks
                  </label>
                  <div className="field-hint" id="pl-forks-hint">
                    Off: runs for a fork's pull request get no secret variables and no credentials, since anyone can open one with any code.
                  </div>
                  <FieldErrors messages={errors.secrets_for_forks} path="secrets_for_forks" />
                </div>
                <ForgeFields
                  pipelineId={isEdit ? id : null}
                  branch={form.branch}
                  autoCancel={form.autoCancel}
                  badgePublic={form.badgePublic}
                  forgeCredential={form.forgeCredential}
                  credentials={credentials}
                  errors={errors}
                  onChange={update}
                />
              </div>
            </section>

            <section className="stack" aria-labelledby="steps-title">
              <div className="row">
                <h2 id="steps-title">Steps</h2>
                <span className="faint">
                  {form.steps.length} step{form.steps.length === 1 ? '' : 's'} · run top to bottom
                </span>
              </div>
              <FieldErrors messages={errors.steps} path="steps" />
              {form.configPath.trim() !== '' && (
                <div className="banner banner-info" role="status" data-testid="steps-unused">
                  <div>
                    Runs take their steps from <code>{form.configPath.trim()}</code> in the repository; the steps below are not used while the Pipeline file is
                    set.
                  </div>
                </div>
              )}
              {segments.map((segment) => {
                const cards = segment.items.map(({ step, index }) => (
                  <StepCard
                    key={step.uid}
                    step={step}
                    index={index}
                    count={form.steps.length}
                    types={types}
                    credentials={credentials}
                    errors={errors}
                    onChange={(s) => setStep(index, s)}
                    onTypeChange={(type) => setStep(index, changeStepType(step, types, type))}
                    onMove={(to) => update({ steps: moveItem(form.steps, index, to) })}
                    onRemove={() => update({ steps: form.steps.filter((_, i) => i !== index) })}
                  />
                ));
                if (!segment.group || segment.items.length < 2) return cards;
                return (
                  <div key={`group-${segment.items[0]?.step.uid}`} className="parallel-group" data-testid="parallel-group" data-group={segment.group}>
                    <div className="parallel-group-label">
                      ⇉ Parallel group <strong>{segment.group}</strong> · these {segment.items.length} steps run at the same time
                    </div>
                    {cards}
                  </div>
                );
              })}
              <div className="add-step card card-body row">
                <label htmlFor="add-step-type" className="field-label">
                  Add a step
                </label>
                <select
                  id="add-step-type"
                  className="select"
                  style={{ width: 'auto' }}
                  value={newType}
                  onChange={(e) => setNewType(e.target.value)}
                  data-testid="add-step-type"
                >
                  {types.map((t) => (
                    <option key={t.id} value={t.id}>
                      {t.name}
                    </option>
                  ))}
                </select>
                <button
                  type="button"
                  className="btn"
                  onClick={() => {
                    update({ steps: [...form.steps, newStep(types, newType, form.steps)] });
                    requestAnimationFrame(() => {
                      const cards = formRef.current?.querySelectorAll<HTMLElement>('[data-testid="step-card"]');
                      const last = cards?.[cards.length - 1];
                      last?.scrollIntoView({ block: 'center', behavior: 'smooth' });
                      last?.querySelector<HTMLInputElement>('[data-testid="step-name"]')?.focus({ preventScroll: true });
                    });
                  }}
                  data-testid="add-step"
                >
                  + Add step
                </button>
                <span className="faint hide-sm">{types.find((t) => t.id === newType)?.description}</span>
              </div>
            </section>
          </div>

          <aside className="stack editor-aside">
            <section className="card card-body stack" aria-labelledby="vars-title">
              <h2 id="vars-title">Variables</h2>
              <p className="field-hint">Default environment for every run. Mark passwords and tokens secret: they are encrypted and masked in logs.</p>
              <VariablesEditor variables={form.variables} onChange={(variables) => update({ variables })} errors={variableErrors(errors)} />
            </section>
            <section className="card card-body stack" aria-labelledby="inputs-title">
              <h2 id="inputs-title">Launch inputs</h2>
              <p className="field-hint">Asked for when someone runs the pipeline by hand; each value becomes a variable of its name.</p>
              <InputsEditor inputs={form.inputs} onChange={(inputs) => update({ inputs })} errors={errors} />
            </section>
            <section className="card card-body stack">
              <h2>Outline</h2>
              <ol className="outline">
                {form.steps.map((s, i) => (
                  <li key={s.uid} className={stepHasErrors(errors, i) ? 'has-error' : undefined}>
                    <span className="step-num">{i + 1}</span>
                    <span className="truncate">{s.name || 'Untitled'}</span>
                    {s.parallelGroup && <span className="chip">∥ {s.parallelGroup}</span>}
                    {s.kept.needs && s.kept.needs.length > 0 && (
                      <span className="chip truncate" title={`waits for ${s.kept.needs.join(', ')}`}>
                        ← {s.kept.needs.join(', ')}
                      </span>
                    )}
                  </li>
                ))}
              </ol>
            </section>
          </aside>
        </div>
      </form>
    </div>
  );
}
