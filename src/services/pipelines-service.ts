/**
 * Pipeline use cases: create, replace, patch, delete, read. Input is validated as a whole (steps
 * against their step types, URLs, branch, variable names) before anything is written, so a bad
 * request changes nothing.
 */
import { conflict, notFound, validationError, type ErrorDetails } from '../domain/errors.js';
import { SECRET_MASK, type PipelineStatus, type StepDefinition, type TriggerEventKind, type Variables } from '../domain/pipeline.js';
import type { Actor } from '../domain/permissions.js';
import type { ProjectAccess } from './projects/project-access.js';
import { auditDiff, isEmptyDiff } from '../domain/audit.js';
import { entry, type AuditLog, type RecordEvent } from './audit/audit-log.js';
import { pipelineAuditDiff, pipelineAuditView, pipelineTarget } from './audit/audit-views.js';
import { branchNameProblem, gitUrlCredentialProblem, gitUrlProblem, type GitUrlPolicy } from '../domain/git-url.js';
import { validateSteps } from '../domain/validate-steps.js';
import { configPathProblem } from '../domain/config-path.js';
import { MAX_VARIABLES, variableNameProblem, variableValueProblem } from '../domain/variables.js';
import type { Pipeline, PipelineFields, PipelineFilter, PipelinesRepository } from '../store/pipelines-repository.js';
import type { CredentialsRepository } from '../store/credentials-repository.js';
import { inputDeclarationProblems, type InputDeclaration } from '../domain/launch-inputs.js';

/** A variable as a client sends it: a plain string, or `{value, secret}`. */
export type VariableInput = string | { value: string; secret?: boolean };

export interface PipelineInput {
  name: string;
  description?: string;
  status?: PipelineStatus;
  repository_url?: string | null;
  branch?: string;
  trigger_events?: TriggerEventKind[];
  variables?: Record<string, VariableInput>;
  steps?: StepDefinition[];
  /** Launch inputs a manual run is started with (domain/launch-inputs.ts); omitted: none. */
  inputs?: InputDeclaration[];
  secrets_for_forks?: boolean;
  /** Newer pushes / pull-request commits cancel older unfinished runs for the same branch or pull request. */
  auto_cancel?: boolean;
  /** Serve the status badge without login. */
  badge_public?: boolean;
  /** A token credential of the pipeline's project for commit statuses; null: the server's token. */
  forge_credential?: string | null;
  /** The pipeline file in the repository; null or omitted: the steps stored here. */
  config_path?: string | null;
  /** A credential of the pipeline's project its repository is read with (pipeline file, checkouts); null: none. */
  repository_credential?: string | null;
  /** The project (id): on create, omitted means the `default` project; on update, unchanged. */
  project?: number;
}

/** Where a pipeline created without `project` goes (ProjectsRepository.defaultProjectId). */
export interface DefaultProject {
  defaultProjectId(): Promise<number | null>;
}

export class PipelinesService {
  constructor(
    private readonly pipelines: PipelinesRepository,
    private readonly gitPolicy: GitUrlPolicy,
    /** Steps may only name credentials that exist in the pipeline's project. */
    private readonly credentials: Pick<CredentialsRepository, 'existingNames'>,
    private readonly access: ProjectAccess,
    private readonly projects: DefaultProject,
    /** Every change is written with its audit event, in one transaction. */
    private readonly audit?: AuditLog,
  ) {}

  /** A change and its audit event in one transaction (without an audit log: the change alone). */
  private change<T>(work: (pipelines: PipelinesRepository, record: RecordEvent) => Promise<T>): Promise<T> {
    if (!this.audit) return work(this.pipelines, async () => {});
    return this.audit.change((tx, record) => work(this.pipelines.in(tx), record));
  }

  /** The pipeline, if the actor may read it (404 otherwise, as for one that does not exist). */
  async get(actor: Actor, id: number): Promise<Pipeline> {
    const pipeline = await this.pipelines.findById(id);
    if (!pipeline) throw notFound('Pipeline');
    await this.access.require(actor, pipeline.project_id, 'read', { what: 'Pipeline' });
    return pipeline;
  }

  /** 404 unless the pipeline exists and the actor may read it, without loading it (no joins, no secrets). */
  async assertReadable(actor: Actor, id: number): Promise<void> {
    const projectId = await this.pipelines.projectOf(id);
    if (projectId === null) throw notFound('Pipeline');
    await this.access.require(actor, projectId, 'read', { what: 'Pipeline' });
  }

  /** What the actor may read, narrowed by the filter (a `project` the actor cannot read is a 404). */
  async list(actor: Actor, filter: Omit<PipelineFilter, 'memberId'>, page: { limit: number; offset: number }) {
    if (filter.project !== undefined) await this.access.requireReadable(actor, filter.project);
    return this.pipelines.list({ ...filter, ...this.access.readFilter(actor) }, page);
  }

  async create(actor: Actor, input: PipelineInput): Promise<Pipeline> {
    const projectId = input.project ?? (await this.defaultProject());
    await this.access.require(actor, projectId, 'edit', {
      what: 'Project',
      createdBy: undefined,
      denied: 'Your role in this project does not allow creating pipelines',
    });
    const fields = this.normalize(input, null, await this.credentialProblems(input.steps, projectId, input), projectId);
    const created = await this.change(async (pipelines, record) => {
      const pipeline = await pipelines.create(fields, actor.id);
      if (pipeline)
        await record(() => entry(actor, 'pipeline.create', pipelineTarget(pipeline), auditDiff(null, pipelineAuditView(pipeline)), pipeline.project_id));
      return pipeline;
    });
    if (!created) throw duplicateName(fields.name);
    return created;
  }

  /** PUT: every editable field is replaced; omitted optional fields take their defaults. */
  async replace(actor: Actor, id: number, input: PipelineInput): Promise<Pipeline> {
    const current = await this.modifiable(actor, id);
    const projectId = await this.targetProject(actor, current, input.project);
    return this.save(actor, current, this.normalize(input, current, await this.credentialProblems(input.steps, projectId, input), projectId));
  }

  /** PATCH: only the fields present change. */
  async patch(actor: Actor, id: number, input: Partial<PipelineInput>): Promise<Pipeline> {
    const current = await this.modifiable(actor, id);
    const merged: PipelineInput = {
      name: input.name ?? current.name,
      description: input.description ?? current.description,
      status: input.status ?? current.status,
      repository_url: input.repository_url !== undefined ? input.repository_url : current.repository_url,
      branch: input.branch ?? current.branch,
      trigger_events: input.trigger_events ?? current.trigger_events,
      variables: input.variables ?? maskedInput(current.variables),
      steps: input.steps ?? current.steps,
      inputs: input.inputs ?? current.inputs,
      secrets_for_forks: input.secrets_for_forks ?? current.secrets_for_forks,
      auto_cancel: input.auto_cancel ?? current.auto_cancel,
      badge_public: input.badge_public ?? current.badge_public,
      forge_credential: input.forge_credential !== undefined ? input.forge_credential : current.forge_credential,
      config_path: input.config_path !== undefined ? input.config_path : current.config_path,
      repository_credential: input.repository_credential !== undefined ? input.repository_credential : current.repository_credential,
    };
    const projectId = await this.targetProject(actor, current, input.project);
    return this.save(actor, current, this.normalize(merged, current, await this.credentialProblems(merged.steps, projectId, merged), projectId));
  }

  async delete(actor: Actor, id: number): Promise<void> {
    const current = await this.modifiable(actor, id);
    const deleted = await this.change(async (pipelines, record) => {
      if (!(await pipelines.delete(id))) return false;
      await record(() => entry(actor, 'pipeline.delete', pipelineTarget(current), auditDiff(pipelineAuditView(current), null), current.project_id));
      return true;
    });
    if (!deleted) throw notFound('Pipeline');
  }

  /**
   * The update is one statement: with an audit log its event is written with it, in one
   * transaction, only when the row was changed (PipelinesRepository.update's `thenWrite`). A save
   * that changes no audited field (the same pipeline sent back) writes no event: the log records
   * changes, as AWX's activity stream skips an update without changes.
   */
  private async save(actor: Actor, current: Pipeline, fields: PipelineFields): Promise<Pipeline> {
    const audit = this.audit;
    const saved = await this.pipelines.update(
      current,
      fields,
      audit
        ? {
            thenWrite: (after: Pipeline) => {
              const diff = pipelineAuditDiff(current, after);
              return isEmptyDiff(diff)
                ? null
                : audit.eventStatement(entry(actor, 'pipeline.update', pipelineTarget(after), diff, after.project_id), after.updated_at);
            },
          }
        : {},
    );
    if (saved === 'conflict') throw duplicateName(fields.name);
    if (!saved) throw notFound('Pipeline');
    return saved;
  }

  private async modifiable(actor: Actor, id: number): Promise<Pipeline> {
    const current = await this.get(actor, id);
    await this.access.require(actor, current.project_id, 'edit', {
      what: 'Pipeline',
      createdBy: current.created_by?.id ?? null,
      denied: 'Your role in this project does not allow changing this pipeline (developers change the pipelines they created)',
    });
    return current;
  }

  /** Moving a pipeline to another project needs the right to create pipelines there. */
  private async targetProject(actor: Actor, current: Pipeline, wanted: number | undefined): Promise<number> {
    if (wanted === undefined || wanted === current.project_id) return current.project_id;
    await this.access.require(actor, wanted, 'edit', {
      what: 'Project',
      createdBy: undefined,
      denied: 'Your role in that project does not allow adding pipelines',
    });
    return wanted;
  }

  private async defaultProject(): Promise<number> {
    const id = await this.projects.defaultProjectId();
    if (id === null) throw validationError({ project: ['There is no default project: name one.'] });
    return id;
  }

  /** `steps[i].credential` for each step naming a credential that does not exist in the project. */
  private async credentialProblems(
    steps: StepDefinition[] | undefined,
    projectId: number,
    pipeline: Pick<PipelineInput, 'forge_credential' | 'repository_credential'>,
  ): Promise<ErrorDetails> {
    const named = (steps ?? []).map((s, i) => ({ i, name: s.credential, field: `steps[${i}].credential` }));
    for (const field of ['forge_credential', 'repository_credential'] as const) {
      const name = pipeline[field]?.trim();
      if (name) named.push({ i: -1, name, field });
    }
    const asked = named.filter((s): s is { i: number; name: string; field: string } => typeof s.name === 'string');
    if (asked.length === 0) return {};
    const existing = await this.credentials.existingNames(
      asked.map((s) => s.name),
      projectId,
    );
    const details: ErrorDetails = {};
    for (const s of asked) if (!existing.has(s.name.toLowerCase())) details[s.field] = [`There is no credential named "${s.name}" in this project.`];
    return details;
  }

  private normalize(input: PipelineInput, current: Pipeline | null, credentialProblems: ErrorDetails, projectId: number): PipelineFields {
    const details: ErrorDetails = {};
    const name = input.name.trim();
    if (name.length === 0) details.name = ['This field may not be blank.'];

    const repository =
      input.repository_url === undefined || input.repository_url === null || input.repository_url.trim() === '' ? null : input.repository_url.trim();
    if (repository !== null) {
      const problem = gitUrlProblem(repository, this.gitPolicy) ?? newCredentialProblem(repository, current?.repository_url);
      if (problem) details.repository_url = [problem];
    }
    const branch = input.branch ?? 'main';
    const branchProblem = branchNameProblem(branch.replace(/[*]/g, 'x'));
    if (branchProblem) details.branch = [branchProblem];

    const configPath = input.config_path === undefined || input.config_path === null || input.config_path.trim() === '' ? null : input.config_path.trim();
    const configPathError = configPath === null ? null : configPathProblem(configPath);
    if (configPathError) details.config_path = [configPathError];
    else if (configPath !== null && repository === null) details.config_path = ['A pipeline file is read from the repository: set repository_url too.'];
    const repositoryCredential = input.repository_credential?.trim() || null;
    if (repositoryCredential !== null && repository === null)
      details.repository_credential = ['A repository credential reads the repository: set repository_url too.'];

    const variables = normalizeVariables(input.variables ?? {}, current?.variables ?? {}, details);
    const steps = input.steps ?? [];
    Object.assign(details, validateSteps(steps, this.gitPolicy));
    const inputs = (input.inputs ?? []).map(normalizeInput);
    Object.assign(details, inputDeclarationProblems(inputs));
    addStepUrlCredentialProblems(details, steps, current?.steps ?? []);
    for (const [field, messages] of Object.entries(credentialProblems)) (details[field] ??= []).push(...messages);

    if (Object.keys(details).length > 0) throw validationError(details);
    return {
      name,
      description: input.description ?? '',
      status: input.status ?? 'active',
      repository_url: repository,
      branch,
      trigger_events: [...new Set(input.trigger_events ?? (['push'] as TriggerEventKind[]))],
      variables,
      steps,
      inputs,
      secrets_for_forks: input.secrets_for_forks ?? false,
      auto_cancel: input.auto_cancel ?? false,
      badge_public: input.badge_public ?? false,
      forge_credential: input.forge_credential?.trim() || null,
      config_path: configPath,
      repository_credential: repositoryCredential,
      project_id: projectId,
    };
  }
}

/** A declared input as stored: only the fields it sets, `required` only when true. */
function normalizeInput(input: InputDeclaration): InputDeclaration {
  return {
    name: input.name,
    type: input.type,
    ...(input.description ? { description: input.description } : {}),
    ...(input.required ? { required: true } : {}),
    ...(input.default !== undefined ? { default: input.default } : {}),
    ...(input.options !== undefined ? { options: input.options } : {}),
  };
}

const duplicateName = (name: string) => conflict(`A pipeline named "${name}" already exists`, { name: ['A pipeline with this name already exists.'] });

/** Turns client input into stored variables; `******` for a secret keeps the value stored before. */
export function normalizeVariables(input: Record<string, VariableInput>, stored: Variables, details: ErrorDetails, field = 'variables'): Variables {
  const out: Variables = {};
  const names = Object.keys(input);
  if (names.length > MAX_VARIABLES) (details[field] ??= []).push(`At most ${MAX_VARIABLES} variables are allowed.`);
  for (const name of names) {
    const raw = input[name]!;
    const at = `${field}.${name}`;
    const nameProblem = variableNameProblem(name);
    if (nameProblem) {
      (details[at] ??= []).push(nameProblem);
      continue;
    }
    const value = typeof raw === 'string' ? raw : raw.value;
    const secret = typeof raw === 'string' ? false : raw.secret === true;
    if (secret && value === SECRET_MASK) {
      const previous = stored[name];
      if (!previous?.secret) (details[at] ??= []).push('There is no stored secret value to keep; send the value itself.');
      else out[name] = previous;
      continue;
    }
    const valueProblem = variableValueProblem(value);
    if (valueProblem) (details[at] ??= []).push(valueProblem);
    out[name] = { value, secret };
  }
  return out;
}

/** The API form of stored variables: secrets masked. */
export function maskedVariables(variables: Variables): Record<string, VariableInput> {
  const out: Record<string, VariableInput> = {};
  for (const [name, v] of Object.entries(variables)) out[name] = v.secret ? { value: SECRET_MASK, secret: true } : v.value;
  return out;
}

const maskedInput = maskedVariables;

/**
 * A repository URL carrying a password or token is refused when it is NEW. One stored before this
 * rule and sent back unchanged is kept, so an old pipeline can still be edited (the engine still
 * runs it; responses show it redacted).
 */
function newCredentialProblem(url: string, stored: string | null | undefined): string | null {
  return url === stored ? null : gitUrlCredentialProblem(url);
}

/** `steps[i].config.repository` for each new step URL that carries a password or token. */
function addStepUrlCredentialProblems(details: ErrorDetails, steps: StepDefinition[], stored: StepDefinition[]): void {
  const storedUrls = new Set(stored.map(repositoryOf));
  steps.forEach((step, i) => {
    const url = repositoryOf(step);
    const field = `steps[${i}].config.repository`;
    if (url === null || details[field] || storedUrls.has(url)) return;
    const problem = gitUrlCredentialProblem(url);
    if (problem) details[field] = [problem];
  });
}

const repositoryOf = (step: StepDefinition): string | null => {
  const repository = (step.config as Record<string, unknown> | undefined)?.repository;
  return typeof repository === 'string' ? repository : null;
};
