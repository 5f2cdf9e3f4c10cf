/**
 * Validates a pipeline's steps against the step catalogue. Errors are keyed by the field they name
 * (`steps[1].config.repository`) so a client can show each next to its input.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { findStepType, STEP_TYPES, STEP_TYPE_IDS } from './step-types.js';
import type { StepDefinition } from './pipeline.js';
import { MAX_STEPS } from './pipeline.js';
import { branchNameProblem, gitUrlProblem, type GitUrlPolicy } from './git-url.js';
import { variableNameProblem, variableValueProblem } from './variables.js';
import { stepGraphProblems } from './step-graph.js';
import { stepOutputProblems } from './step-outputs.js';
import type { ErrorDetails } from './errors.js';

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
// `format: textarea` is a UI hint only.
ajv.addFormat('textarea', true);
const validators = new Map<string, ValidateFunction>(STEP_TYPES.map((t) => [t.id, ajv.compile(t.config_schema)]));

function add(details: ErrorDetails, field: string, message: string) {
  (details[field] ??= []).push(message);
}

function ajvMessage(error: ErrorObject): { suffix: string; message: string } {
  const path = error.instancePath
    .split('/')
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`))
    .join('');
  switch (error.keyword) {
    case 'required':
      return { suffix: `${path}.${String(error.params.missingProperty)}`, message: 'This field is required.' };
    case 'additionalProperties':
      return { suffix: `${path}.${String(error.params.additionalProperty)}`, message: 'Unknown field.' };
    case 'enum':
      return { suffix: path, message: `Must be one of: ${(error.params.allowedValues as unknown[]).join(', ')}.` };
    default:
      return { suffix: path, message: `${error.message ?? 'Invalid value'}.` };
  }
}

/**
 * Checks every step and fills in schema defaults (so a saved step shows e.g. `branch: "main"`).
 * Returns the problems found; an empty object means the steps are valid. `maxSteps`: a plan
 * expanded from a pipeline file (matrix cells) may be longer than a pipeline saved in AnsFlow;
 * `checkGraph: false`: the file's planner checked the graph before expanding it (a matrix needing a
 * matrix makes cells × cells edges, all known to be sound).
 */
export function validateSteps(steps: StepDefinition[], policy: GitUrlPolicy, options: { maxSteps?: number; checkGraph?: boolean } = {}): ErrorDetails {
  const { maxSteps = MAX_STEPS, checkGraph = true } = options;
  const details: ErrorDetails = {};
  if (steps.length > maxSteps) add(details, 'steps', `A pipeline may have at most ${maxSteps} steps.`);
  const names = new Set<string>();
  const groupsSeen = new Set<string>();
  let previousGroup: string | undefined;
  steps.forEach((step, i) => {
    const at = `steps[${i}]`;
    const lowered = step.name.trim().toLowerCase();
    if (step.name.trim().length === 0) add(details, `${at}.name`, 'This field may not be blank.');
    else if (names.has(lowered)) add(details, `${at}.name`, 'Step names must be unique within a pipeline.');
    names.add(lowered);

    // A parallel group is a run of consecutive steps; the same name further down would be ambiguous.
    if (step.parallel_group !== undefined && step.parallel_group !== previousGroup && groupsSeen.has(step.parallel_group))
      add(details, `${at}.parallel_group`, 'Steps of one parallel group must be consecutive.');
    if (step.parallel_group !== undefined) groupsSeen.add(step.parallel_group);
    previousGroup = step.parallel_group;

    for (const [name, value] of Object.entries(step.env ?? {})) {
      const problem = variableNameProblem(name) ?? variableValueProblem(value);
      if (problem) add(details, `${at}.env.${name}`, problem);
    }

    const type = findStepType(step.type);
    const validate = validators.get(step.type);
    if (!type || !validate) {
      add(details, `${at}.type`, `Unknown step type "${step.type}". Known types: ${STEP_TYPE_IDS.join(', ')}.`);
      return;
    }
    if (!validate(step.config)) {
      for (const error of validate.errors ?? []) {
        const { suffix, message } = ajvMessage(error);
        add(details, `${at}.config${suffix}`, message);
      }
      return;
    }
    const config = step.config as Record<string, unknown>;
    if (step.type === 'git_checkout') {
      const problem = gitUrlProblem(String(config.repository), policy);
      if (problem) add(details, `${at}.config.repository`, problem);
      if (typeof config.branch === 'string') {
        const branchProblem = branchNameProblem(config.branch);
        if (branchProblem) add(details, `${at}.config.branch`, branchProblem);
      }
      if (typeof config.directory === 'string' && relativePathProblem(config.directory))
        add(details, `${at}.config.directory`, relativePathProblem(config.directory)!);
    }
    if (step.type === 'shell_command') {
      if (typeof config.working_directory === 'string' && relativePathProblem(config.working_directory))
        add(details, `${at}.config.working_directory`, relativePathProblem(config.working_directory)!);
      for (const name of Object.keys((config.env as Record<string, string> | undefined) ?? {})) {
        const problem = variableNameProblem(name);
        if (problem) add(details, `${at}.config.env.${name}`, problem);
      }
    }
    if (step.type === 'ansible_playbook') {
      const problem = relativePathProblem(String(config.playbook));
      if (problem) add(details, `${at}.config.playbook`, problem);
      for (const field of ['inventory', 'limit'] as const)
        if (typeof config[field] === 'string' && (config[field] as string).startsWith('-')) add(details, `${at}.config.${field}`, 'Must not start with "-".');
      if (typeof config.inventory === 'string' && typeof config.inventory_name === 'string')
        add(details, `${at}.config.inventory`, 'Name a stored inventory (inventory_name) or an inventory file (inventory), not both.');
    }
  });
  for (const [field, messages] of Object.entries(stepOutputProblems(steps))) for (const m of messages) add(details, field, m);
  if (checkGraph)
    for (const [field, messages] of Object.entries(stepGraphProblems(steps, (i) => `steps[${i}]`))) for (const m of messages) add(details, field, m);
  return details;
}

/** A path the user gives must stay inside the workspace: relative, no `..`, no NUL. */
export function relativePathProblem(path: string): string | null {
  if (path.includes('\0')) return 'Path must not contain NUL bytes.';
  if (path.startsWith('/') || path.startsWith('\\')) return 'Path must be relative to the workspace.';
  if (path.split(/[\\/]+/).includes('..')) return 'Path must not leave the workspace ("..").';
  if (path.startsWith('-')) return 'Path must not start with "-".';
  return null;
}
