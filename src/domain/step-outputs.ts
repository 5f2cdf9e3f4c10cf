/**
 * What a step keeps and reuses: `artifacts:` (files of the workspace stored after the step),
 * `cache:` (paths restored before the step and saved after it) and `from:` (another pipeline's
 * latest successful artifacts put into the workspace before it). The schemas are part of the stored
 * step (domain/pipeline.ts), so a pipeline saved in AnsFlow and a pipeline file take the same
 * fields; `stepOutputProblems` checks what a schema cannot (globs, key expressions, unique names).
 */
import { Type, type Static } from 'typebox';
import { MAX_WORKSPACE_GLOBS, workspaceGlobProblem } from './workspace-glob.js';
import { cacheKeyProblem, cacheKeyTemplateProblem, keySafe, MAX_CACHE_KEY_LENGTH } from './cache-key.js';
import type { ErrorDetails } from './errors.js';
import { branchNameProblem } from './git-url.js';

export const ARTIFACT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$';
export const MAX_ARTIFACT_EXPIRE_DAYS = 3650;
export const MAX_RESTORE_KEYS = 10;

const Globs = (description: string) => Type.Array(Type.String({ minLength: 1, maxLength: 500 }), { minItems: 1, maxItems: MAX_WORKSPACE_GLOBS, description });

export const StepArtifactsSchema = Type.Object(
  {
    name: Type.Optional(
      Type.String({ pattern: ARTIFACT_NAME_PATTERN, description: "The artifact's name (default: the step's name made safe); unique in a pipeline" }),
    ),
    paths: Globs('Globs relative to the workspace (`dist/**`, `*.tar.gz`); links are never followed'),
    expire_in_days: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ARTIFACT_EXPIRE_DAYS, description: 'Removed this many days after the run' })),
    when: Type.Optional(
      Type.Union([Type.Literal('on_success'), Type.Literal('on_failure'), Type.Literal('always')], {
        description: 'When the files are stored: after the step succeeded (default), failed, or either',
      }),
    ),
  },
  { additionalProperties: false },
);
export type StepArtifacts = Static<typeof StepArtifactsSchema>;

export const StepCacheSchema = Type.Object(
  {
    key: Type.String({
      minLength: 1,
      maxLength: MAX_CACHE_KEY_LENGTH,
      description: "The cache's key; may contain {{ branch }} and {{ hashFiles('package-lock.json') }}",
    }),
    paths: Globs('What the cache holds, relative to the workspace (`node_modules`, `.cache/pip/**`)'),
    restore_keys: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: MAX_CACHE_KEY_LENGTH }), {
        maxItems: MAX_RESTORE_KEYS,
        description: 'Key prefixes tried in order when the exact key is missing; the newest match wins',
      }),
    ),
  },
  { additionalProperties: false },
);
export type StepCache = Static<typeof StepCacheSchema>;

export const StepFromSchema = Type.Object(
  {
    pipeline: Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Integer({ minimum: 1, maximum: 2147483647 })], {
      description: "Another pipeline of this run's project (its name or id)",
    }),
    branch: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        description: "The branch whose latest successful run's artifacts are taken (default: that pipeline's branch)",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Before the step, the artifacts of another pipeline's latest successful run on a branch are put into the workspace at their paths; the step fails when there is none",
  },
);
export type StepFrom = Static<typeof StepFromSchema>;

/** The artifact's name: the one it gives, or its step's name made safe. */
export function artifactName(stepName: string, artifacts: StepArtifacts): string {
  if (artifacts.name) return artifacts.name;
  const safe = keySafe(stepName)
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 100);
  return safe === '' ? 'artifact' : safe;
}

/** Problems of the steps' `artifacts:` and `cache:`, keyed `steps[i].artifacts.paths[0]`. */
export function stepOutputProblems(steps: readonly { name: string; artifacts?: StepArtifacts; cache?: StepCache; from?: StepFrom }[]): ErrorDetails {
  const details: ErrorDetails = {};
  const add = (field: string, message: string) => (details[field] ??= []).push(message);
  const names = new Map<string, number>();
  steps.forEach((step, i) => {
    const at = `steps[${i}]`;
    if (step.artifacts) {
      step.artifacts.paths.forEach((glob, j) => {
        const problem = workspaceGlobProblem(glob);
        if (problem) add(`${at}.artifacts.paths[${j}]`, problem);
      });
      const name = artifactName(step.name, step.artifacts);
      const other = names.get(name.toLowerCase());
      if (other !== undefined) add(`${at}.artifacts.name`, `Step ${other + 1} already stores an artifact named "${name}"; give this one another name.`);
      else names.set(name.toLowerCase(), i);
    }
    if (step.from?.branch !== undefined) {
      const problem = branchNameProblem(step.from.branch);
      if (problem) add(`${at}.from.branch`, problem);
    }
    if (step.cache) {
      const problem = cacheKeyTemplateProblem(step.cache.key);
      if (problem) add(`${at}.cache.key`, problem);
      step.cache.paths.forEach((glob, j) => {
        const p = workspaceGlobProblem(glob);
        if (p) add(`${at}.cache.paths[${j}]`, p);
      });
      (step.cache.restore_keys ?? []).forEach((prefix, j) => {
        const p = cacheKeyTemplateProblem(prefix) ?? (prefix.includes('{{') ? null : cacheKeyProblem(prefix));
        if (p) add(`${at}.cache.restore_keys[${j}]`, p);
      });
    }
  });
  return details;
}
