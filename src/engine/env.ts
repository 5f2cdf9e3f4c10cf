/**
 * The environment a step sees. It starts from a CLEAN base — never the server's own environment,
 * which holds ANSFLOW_SECRET_KEY, database URLs and the like — then adds the run's variables,
 * then the step's own `env`, then the ANSFLOW_* context (which wins over user variables, so a step can trust it).
 */
import type { RunSpec } from './ports.js';
import type { Variables } from '../domain/pipeline.js';
import { variableNameProblem } from '../domain/variables.js';

export interface StepEnvInput {
  spec: RunSpec;
  stepName: string;
  workspace: string;
  home: string;
  /** The step's own `env` (a matrix cell's values land here): over the run's variables, under ANSFLOW_*. */
  stepEnv?: Record<string, string> | undefined;
}

export class VariableNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VariableNameError';
  }
}

export function baseEnv(input: { home: string; path?: string }): Record<string, string> {
  return {
    PATH: input.path ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: input.home,
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    CI: 'true',
  };
}

/** Throws VariableNameError for a name the API should already have refused (defence in depth). */
export function buildStepEnv(input: StepEnvInput): Record<string, string> {
  const env = baseEnv(input);
  addVariables(env, input.spec.variables);
  if (input.stepEnv) addVariables(env, input.stepEnv);
  const { spec } = input;
  Object.assign(env, {
    ANSFLOW_RUN_ID: String(spec.runId),
    ANSFLOW_RUN_NUMBER: String(spec.number),
    ANSFLOW_PIPELINE_ID: spec.pipelineId === null ? '' : String(spec.pipelineId),
    ANSFLOW_PIPELINE_NAME: spec.pipelineName,
    ANSFLOW_BRANCH: spec.branch,
    ANSFLOW_COMMIT: spec.commit ?? '',
    ANSFLOW_WORKSPACE: input.workspace,
    ANSFLOW_STEP_NAME: input.stepName,
  });
  // Pull requests, as GitHub Actions' GITHUB_BASE_REF / GITHUB_HEAD_REF and GitLab's CI_MERGE_REQUEST_* tell them.
  if (spec.pullRequest)
    Object.assign(env, {
      ANSFLOW_PR_NUMBER: String(spec.pullRequest.number),
      ANSFLOW_PR_SOURCE_BRANCH: spec.pullRequest.sourceBranch,
      ANSFLOW_PR_TARGET_BRANCH: spec.pullRequest.targetBranch,
    });
  return env;
}

/** Adds user-named variables (run variables or a step's `env`), refusing dangerous names. */
export function addVariables(env: Record<string, string>, variables: Variables | Record<string, string>): void {
  for (const [name, variable] of Object.entries(variables)) {
    const problem = variableNameProblem(name);
    if (problem) throw new VariableNameError(problem);
    const value = typeof variable === 'string' ? variable : variable.value;
    if (typeof value !== 'string' || value.includes('\0')) throw new VariableNameError(`Variable ${name} must be a string without NUL bytes`);
    env[name] = value;
  }
}

/** The values of secret variables: what must never reach a log. */
export function secretValues(variables: Variables): string[] {
  return Object.values(variables)
    .filter((v) => v.secret)
    .map((v) => v.value);
}
