/** Starting a run: validate, snapshot the pipeline, write run + steps + job at once, wake a worker. */
import { AppError, notFound, validationError, type ErrorDetails } from '../../domain/errors.js';
import type { Actor } from '../../domain/permissions.js';
import type { ProjectAccess } from '../projects/project-access.js';
import { entry, type AuditLog } from '../audit/audit-log.js';
import { branchNameProblem, COMMIT_SHA_PATTERN } from '../../domain/git-url.js';
import { requiredLabels, type Variables } from '../../domain/pipeline.js';
import type { PipelinesRepository } from '../../store/pipelines-repository.js';
import type { NewRun, Run, RunsRepository, RunTrigger } from '../../store/runs-repository.js';
import type { Pipeline } from '../../store/pipelines-repository.js';
import type { StoreTx } from '../../store/transaction.js';
import type { JobQueue } from '../../queue/job-queue.js';
import type { EventBus } from '../../events/event-bus.js';
import { normalizeVariables, type VariableInput } from '../pipelines-service.js';
import { ansibleOverrideProblems, type AnsibleLaunchOverride } from '../../domain/ansible-launch.js';
import type { ApprovalGates } from '../deployments/approval-gates.js';
import { runEnvironment } from '../../domain/pipeline.js';
import { resolveInputs, type InputDeclaration } from '../../domain/launch-inputs.js';

export interface TriggerInput {
  pipelineId: number;
  branch?: string;
  commit?: string | null;
  variables?: Record<string, VariableInput>;
  /** Values for the pipeline's launch inputs (domain/launch-inputs.ts); they need only `run`. */
  inputs?: Record<string, unknown>;
  trigger: RunTrigger;
  /** A pull request from a fork: its run gets no secrets unless the pipeline says `secrets_for_forks`. */
  fromFork?: boolean;
  /** Launch-time changes to the Ansible steps (needs `run_override`, unless `derived`). */
  ansible?: AnsibleLaunchOverride;
  /**
   * The override and commit come from the platform, not the caller (a re-run on failed hosts
   * repeats a run's own commit on fewer hosts): `run` suffices.
   */
  derived?: boolean;
}

/** What a run whose secrets were withheld shows (run API, web UI). */
export const FORK_SECRETS_WITHHELD = 'pull request from a fork';

export interface TriggerDeps {
  pipelines: PipelinesRepository;
  runs: RunsRepository;
  queue: JobQueue;
  events: EventBus;
  access: ProjectAccess;
  /** Every trigger is audited, in the run's own transaction. */
  audit?: AuditLog;
  /** Environments' approval gates (services/deployments/approval-gates.ts); without them a step's `environment` is refused. */
  gates?: Pick<ApprovalGates, 'forNewRun' | 'afterCreate' | 'forkApproved'>;
}

export async function triggerRun(deps: TriggerDeps, actor: Actor | null, input: TriggerInput): Promise<Run> {
  const pipeline = await deps.pipelines.findById(input.pipelineId);
  if (!pipeline) throw notFound('Pipeline');
  const prepared = await prepareRun(deps, actor, input, pipeline);
  // At commit: announce `queued` first, then wake a worker (whose `running` must come after it).
  // A run waiting at its environment's gate has no job yet: its gate wakes a worker later.
  const run = await deps.runs.create(
    prepared.run,
    (runId) => announce(deps, prepared, runId),
    async (tx, written) => {
      if (deps.audit) await deps.audit.record(tx, auditEntry(actor, input, prepared, written));
    },
  );
  if (!run) throw notFound('Pipeline');
  return afterCommit(deps, prepared, run);
}

/** Per input of `triggerRunsIn`: its run, or why it was refused (nothing of it written). */
export type BatchOutcome = { run: Run } | { refused: AppError };

/**
 * Several runs started by the platform (no actor: the scheduler's due schedules) inside the
 * caller's transaction `tx`, written together (runs-repository.ts `createMany`) with their audit
 * events. Each input is checked alone: one refused (an AppError: an inactive pipeline, a branch its
 * environment refuses) is answered as such and the others are written. Any other failure throws
 * and the caller's transaction writes nothing. `committed` announces the runs and wakes workers;
 * the caller calls it once its transaction has committed, never before.
 */
export async function triggerRunsIn(
  deps: TriggerDeps,
  tx: StoreTx,
  inputs: readonly TriggerInput[],
): Promise<{ outcomes: BatchOutcome[]; committed(): Promise<void> }> {
  const pipelines = new Map((await deps.pipelines.in(tx).findByIds([...new Set(inputs.map((i) => i.pipelineId))])).map((p) => [p.id, p]));
  const prepared: (PreparedRun | AppError)[] = [];
  for (const input of inputs) {
    const pipeline = pipelines.get(input.pipelineId);
    try {
      if (!pipeline) throw notFound('Pipeline');
      prepared.push(await prepareRun(deps, null, input, pipeline, tx));
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      prepared.push(error);
    }
  }
  const toWrite = prepared.filter((p): p is PreparedRun => !(p instanceof AppError));
  const written = await deps.runs.in(tx).createMany(toWrite.map((p) => p.run));
  if (deps.audit) {
    const entries = toWrite.flatMap((p, i) => (written[i] ? [auditEntry(null, p.input, p, written[i])] : []));
    await deps.audit.recordMany(tx, entries);
  }
  let next = 0;
  const outcomes = prepared.map((p): BatchOutcome => {
    if (p instanceof AppError) return { refused: p };
    const run = written[next++];
    return run ? { run } : { refused: notFound('Pipeline') };
  });
  return {
    outcomes,
    committed: async () => {
      toWrite.forEach((p, i) => {
        if (written[i]) announce(deps, p, written[i].id);
      });
      // Once committed nothing may fail: what afterCreate does not finish, the gate sweeper does.
      for (const [i, p] of toWrite.entries()) if (written[i]) await afterCommit(deps, p, written[i]);
    },
  };
}

/** A run checked and worked out (variables, gate), not yet written. */
interface PreparedRun {
  input: TriggerInput;
  run: NewRun;
  pipelineId: number;
  branch: string;
  commit: string | null;
  waiting: boolean;
  forkGate: boolean;
  labels: string[];
}

/** Checks the input against the pipeline and works out the run to write (reads through `tx` when given). */
async function prepareRun(deps: TriggerDeps, actor: Actor | null, input: TriggerInput, pipeline: Pipeline, tx?: StoreTx): Promise<PreparedRun> {
  // A webhook (no actor) runs what the pipeline says; a person needs `run`, and `run_override`
  // to choose the variables or the commit.
  if (actor) {
    await deps.access.require(actor, pipeline.project_id, 'run', { what: 'Pipeline' });
    if (!input.derived && (input.variables !== undefined || (input.commit !== undefined && input.commit !== null) || input.ansible !== undefined))
      await deps.access.require(actor, pipeline.project_id, 'run_override', { what: 'Pipeline' });
  }
  if (pipeline.status !== 'active') throw new AppError('UNPROCESSABLE_ENTITY', 'The pipeline is inactive; activate it to run it');

  const details: ErrorDetails = {};
  const branch = input.branch ?? (pipeline.branch.includes('*') ? 'main' : pipeline.branch);
  const branchProblem = branchNameProblem(branch);
  if (branchProblem) details.branch = [branchProblem];
  const commit = input.commit ?? null;
  if (commit !== null && !COMMIT_SHA_PATTERN.test(commit)) details.commit = ['Must be a hexadecimal commit SHA (7-64 characters).'];
  const runVariables = normalizeVariables(input.variables ?? {}, {}, details);
  const inputValues = launchInputValues(pipeline.inputs, input, details);
  if (input.ansible) Object.assign(details, ansibleOverrideProblems(input.ansible));
  if (Object.keys(details).length > 0) throw validationError(details);

  // Run variables override the pipeline's defaults; a pipeline secret stays secret.
  const variables: Variables = { ...pipeline.variables };
  for (const [name, v] of Object.entries(runVariables)) variables[name] = { value: v.value, secret: v.secret || (pipeline.variables[name]?.secret ?? false) };
  for (const [name, value] of Object.entries(inputValues)) variables[name] = { value, secret: pipeline.variables[name]?.secret ?? false };
  // Withheld secrets are left out here, so they are in no snapshot, environment or log of the run;
  // the worker gives a run marked this way no credentials.
  const secretsWithheld = input.fromFork && !pipeline.secrets_for_forks ? FORK_SECRETS_WITHHELD : null;
  if (secretsWithheld) for (const [name, v] of Object.entries(variables)) if (v.secret) delete variables[name];

  // A pipeline file's steps (and so its environment) are known once the worker has read it.
  const environment = pipeline.config_path ? null : await environmentOf(deps, pipeline.project_id, pipeline.steps, branch, tx);
  // A fork's pull request given secrets waits for a maintainer's approval of its author at its
  // head commit, unless one was given already (a redelivery, a re-run of the same commit).
  const forkGate = await needsForkApproval(deps, pipeline, input, commit);
  const waiting = environment?.waiting === true || forkGate;
  return {
    input,
    pipelineId: pipeline.id,
    branch,
    commit,
    waiting,
    forkGate,
    labels: requiredLabels(pipeline.steps),
    run: {
      pipelineId: pipeline.id,
      trigger: input.trigger,
      branch,
      commit,
      variables,
      secretsWithheld,
      ...(input.ansible && { ansible: input.ansible }),
      ...(environment ? { environment } : {}),
      ...(forkGate ? { forkGate } : {}),
    },
  };
}

/** After the commit: the run's first status to its watchers, and its job to a worker (not while it waits). */
function announce(deps: TriggerDeps, prepared: PreparedRun, runId: number): void {
  deps.events.publish({
    type: 'run_status',
    runId,
    pipelineId: prepared.pipelineId,
    status: prepared.waiting ? 'waiting' : 'queued',
    progress: 0,
    currentStep: null,
    at: new Date().toISOString(),
  });
  if (!prepared.waiting) deps.queue.notify({ runId, pipelineId: prepared.pipelineId, labels: prepared.labels });
}

/** A run waiting at its environment's gate is handed to the gate (wait timer, queue, supersede). */
async function afterCommit(deps: TriggerDeps, prepared: PreparedRun, run: Run): Promise<Run> {
  // A fork's run waiting for a maintainer opens its environment's gate only once approved.
  if (!prepared.waiting || prepared.forkGate) return run;
  // Once committed nothing may fail (a retrying client would start it twice): what afterCreate
  // does not finish, the gate sweeper does.
  try {
    await deps.gates!.afterCreate(run);
    return (await deps.runs.findById(run.id)) ?? run;
  } catch {
    return run;
  }
}

/** The run's `run.trigger` audit event, written in its transaction. */
function auditEntry(actor: Actor | null, input: TriggerInput, prepared: PreparedRun, written: Run) {
  const { branch, commit } = prepared;
  const diff = {
    branch: { after: branch },
    ...(commit !== null ? { commit: { after: commit } } : {}),
    ...(input.variables && Object.keys(input.variables).length > 0 ? { variables: { after: Object.keys(input.variables).sort() } } : {}),
    ...(input.inputs && Object.keys(input.inputs).length > 0 ? { inputs: { after: Object.keys(input.inputs).sort() } } : {}),
    trigger: { after: input.trigger.type },
    ...(input.ansible
      ? { ansible: { after: { ...input.ansible, ...(input.ansible.extra_vars && { extra_vars: Object.keys(input.ansible.extra_vars).sort() }) } } }
      : {}),
  };
  return entry(actor, 'run.trigger', { type: 'run', id: written.id, name: `${written.pipeline.name} #${written.number}` }, diff, written.project_id);
}

/**
 * The launch inputs' values as run variables. A declared input takes its value from `inputs`, else
 * from a run variable of its name (text: the spec's `variables` body keeps working), else its
 * default. A run someone asked for (by hand, the API, a schedule) is refused with each problem
 * named by the field it came from (`inputs.region`, `variables.REGION`); a webhook's run or a
 * derived one (a re-run on failed hosts) takes the defaults and the values that fit, and is
 * never refused for an input.
 */
function launchInputValues(declared: readonly InputDeclaration[], input: TriggerInput, details: ErrorDetails): Record<string, string> {
  const given: Record<string, unknown> = { ...(input.inputs ?? {}) };
  if (declared.length === 0 && Object.keys(given).length === 0) return {};
  const fromVariables = new Set<string>();
  for (const d of declared) {
    const variable = input.variables?.[d.name];
    if (variable === undefined) continue;
    if (Object.hasOwn(given, d.name)) {
      (details[`variables.${d.name}`] ??= []).push(`Also given as inputs.${d.name}: give it once.`);
      continue;
    }
    given[d.name] = typeof variable === 'string' ? variable : variable.value;
    fromVariables.add(d.name);
  }
  const { variables, problems } = resolveInputs(declared, given, { fieldOf: (name) => (fromVariables.has(name) ? `variables.${name}` : `inputs.${name}`) });
  // Leniently, a value that does not fit is left out (a run variable of its name stays as given).
  const strict = !input.derived && input.trigger.type !== 'webhook';
  if (strict) for (const [field, messages] of Object.entries(problems)) (details[field] ??= []).push(...messages);
  return variables;
}

async function needsForkApproval(
  deps: TriggerDeps,
  pipeline: { id: number; secrets_for_forks: boolean },
  input: TriggerInput,
  commit: string | null,
): Promise<boolean> {
  if (!input.fromFork || !pipeline.secrets_for_forks || !deps.gates) return false;
  if (commit === null) return true;
  return !(await deps.gates.forkApproved(pipeline.id, input.trigger.author ?? '', commit));
}

async function environmentOf(deps: TriggerDeps, projectId: number, steps: Parameters<ApprovalGates['forNewRun']>[1], branch: string, tx?: StoreTx) {
  if (deps.gates) return deps.gates.forNewRun(projectId, steps, branch, tx);
  const { name } = runEnvironment(steps);
  if (name !== null) throw new AppError('UNPROCESSABLE_ENTITY', `A step deploys to environment "${name}", but this server has no approval gates`);
  return null;
}
