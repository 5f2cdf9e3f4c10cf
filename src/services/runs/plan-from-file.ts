/**
 * A run of a pipeline with `config_path` takes its steps from that file at the run's exact commit:
 *
 *   1. fetch the repository's mirror (only new objects; the pushed commit or pull-request ref too),
 *      through the pipeline's `repository_credential` when it has one; skipped when the mirror
 *      already holds the delivered commit;
 *   2. the commit: the delivered one, or the branch head for a manual run (then stored on the run);
 *   3. the trigger context: event (from the trigger's ref), branch (a pull request's target
 *      branch), changed files (push: `before`..commit; pull request: merge base with the target
 *      branch..commit; unknown otherwise, which lets every `paths` filter pass), worked out only
 *      when a file filters by paths;
 *   4. the file at that commit, planned by the pipeline-file planner with includes read from
 *      mirrors (MirrorFileSource).
 *
 * Three outcomes, each recorded by the worker: `planned` (the expanded steps run), `invalid`
 * (every problem located; no step starts; the run ends `error`), `skipped` (the file's `when`
 * excludes this event; nothing runs; the run ends `success` with the reason, `skipped: …`, which
 * the commit status reports).
 */
import { coerceError } from '../../domain/errors.js';
import { repositoryKey, type GitUrlPolicy } from '../../domain/git-url.js';
import type { LeftOutStep, PlanConditions, StepDefinition, Variables } from '../../domain/pipeline.js';
import type { Run, RunConfigError } from '../../store/runs-repository.js';
import { MirrorError, type RepositoryMirrors } from '../../engine/mirror/repository-mirrors.js';
import type { ResolvedCredential } from '../../domain/credentials.js';
import { MirrorFileSource, type MirrorFileRef } from '../../engine/mirror/mirror-file-source.js';
import type { CredentialSource } from './credential-source.js';

export type FileEvent = 'push' | 'pull_request' | 'tag' | 'manual';

/** What the planner is told about the run (the pipeline-file domain's PlanContext). */
export interface FilePlanContext {
  branch: string;
  event: FileEvent;
  changedFiles: string[] | null;
}

/** The pipeline-file planner's answer, as much of it as a run needs. */
export interface FilePlanResult {
  valid: boolean;
  errors: RunConfigError[];
  steps: StepDefinition[];
  conditions: Record<string, PlanConditions>;
  left_out: LeftOutStep[];
  variables: Record<string, string>;
  skipped: null | { reason: string };
}

/** The planner (`parsePipelineFile` of src/domain/pipeline-file/), passed in. */
export type PipelineFilePlanner = (
  content: string,
  options: {
    path: string;
    source: { read(ref: MirrorFileRef): Promise<string> };
    context: FilePlanContext;
    gitPolicy: GitUrlPolicy;
    changedFiles: () => Promise<string[] | null>;
  },
) => Promise<FilePlanResult>;

export type FilePlanOutcome =
  | { kind: 'planned'; commit: string; steps: StepDefinition[]; variables: Variables; conditions: Record<string, PlanConditions>; leftOut: LeftOutStep[] }
  | { kind: 'invalid'; commit: string | null; errors: RunConfigError[] }
  | { kind: 'skipped'; commit: string; reason: string };

export interface PlanFromFileDeps {
  mirrors: RepositoryMirrors;
  planner: PipelineFilePlanner;
  policy: GitUrlPolicy;
  /** Opens the credentials includes name (the run's project's only). */
  credentials?: CredentialSource;
}

export async function planFromFile(deps: PlanFromFileDeps, run: Run, signal?: AbortSignal): Promise<FilePlanOutcome> {
  const path = run.definition.config_path;
  if (!path) throw new Error(`run ${run.id} has no pipeline file`);
  const whole = (message: string, commit: string | null = null): FilePlanOutcome => ({
    kind: 'invalid',
    commit,
    errors: [{ file: path, path: '', line: 1, column: 1, message }],
  });
  const url = run.definition.repository_url;
  if (!url) return whole('the pipeline has no repository to read its file from');

  const event = eventOf(run);
  const wanted = [...(event === 'pull_request' && run.trigger.ref ? [run.trigger.ref] : []), ...(run.commit ? [run.commit] : [])];
  // The pipeline's repository credential reads the repository (also for a fork's pull request:
  // the platform reads the file and the credential never reaches a step).
  const credentialName = run.definition.repository_credential ?? null;
  let credential: ResolvedCredential | undefined;
  if (credentialName) {
    credential = deps.credentials ? (await deps.credentials.open([credentialName], run.project_id))[0] : undefined;
    if (!credential) return whole(`the repository credential "${credentialName}" does not exist in this project`);
  }
  let mirror: string;
  let commit: string;
  let content: string | null;
  try {
    ({ mirror, commit, content } = await readFile(deps.mirrors, { url, credential, wanted, path, signal }, run, event));
  } catch (thrown) {
    return whole(`the repository could not be read: ${coerceError(thrown).message}`);
  }
  if (content === null) return whole(`${path} does not exist at commit ${commit.slice(0, 12)}`, commit);
  const targetBranch = pullRequestTarget(run);
  const context: FilePlanContext = {
    branch: event === 'pull_request' && targetBranch ? targetBranch : run.branch,
    event,
    changedFiles: null,
  };
  const source = new MirrorFileSource({
    mirrors: deps.mirrors,
    repository: url,
    mirror,
    commit,
    credential: async (name) => (run.secrets_withheld || !deps.credentials ? undefined : (await deps.credentials.open([name], run.project_id))[0]),
    ...(signal && { signal }),
  });
  const result = await deps.planner(content, {
    path,
    source,
    context,
    gitPolicy: deps.policy,
    // Worked out only when the file filters by paths: one git process less on the run's path otherwise.
    changedFiles: () => changedFiles(deps.mirrors, mirror, run, event, commit, targetBranch),
  });
  if (!result.valid) return { kind: 'invalid', commit, errors: result.errors };
  if (result.skipped) return { kind: 'skipped', commit, reason: result.skipped.reason };
  const variables: Variables = Object.fromEntries(Object.entries(result.variables).map(([name, value]) => [name, { value, secret: false }]));
  const steps = credentialName ? withRepositoryCredential(result.steps, url, credentialName) : result.steps;
  return { kind: 'planned', commit, steps, variables, conditions: result.conditions, leftOut: result.left_out };
}

/**
 * The file's git_checkout steps of the pipeline's own repository that name no credential check it
 * out with the pipeline's repository credential: what read the file also checks it out.
 */
export function withRepositoryCredential(steps: StepDefinition[], repository: string, credential: string): StepDefinition[] {
  const key = repositoryKey(repository);
  return steps.map((step) => {
    const target = step.config.repository;
    const same = typeof target === 'string' && key !== null && repositoryKey(target) === key;
    return step.type === 'git_checkout' && same && step.credential === undefined ? { ...step, credential } : step;
  });
}

/** The kind of event from the trigger: its ref says which (webhooks); people and the API run `manual`. */
export function eventOf(run: Pick<Run, 'trigger'>): FileEvent {
  const { trigger } = run;
  if (trigger.type !== 'webhook') return 'manual';
  const ref = trigger.ref ?? '';
  if (ref.startsWith('refs/tags/')) return 'tag';
  if (ref.startsWith('refs/pull/') || ref.startsWith('refs/merge-requests/')) return 'pull_request';
  return 'push';
}

function pullRequestTarget(run: Run): string | null {
  // Written by the webhook trigger for pull requests (`pull_request.target_branch`).
  const pr = (run.trigger as { pull_request?: { target_branch?: unknown } }).pull_request;
  return typeof pr?.target_branch === 'string' ? pr.target_branch : null;
}

async function changedFiles(
  mirrors: RepositoryMirrors,
  mirror: string,
  run: Run,
  event: FileEvent,
  commit: string,
  targetBranch: string | null,
): Promise<string[] | null> {
  try {
    if (event === 'push' && run.trigger.before) return await mirrors.changedFiles(mirror, run.trigger.before, commit);
    // A pull request's own changes: since it left its target branch (`target...head`).
    if (event === 'pull_request' && targetBranch) return await mirrors.changedFiles(mirror, `refs/heads/${targetBranch}`, commit, { mergeBase: true });
  } catch {
    // Unknown changes let every `paths` filter pass: running too much beats skipping silently.
  }
  return null;
}

/**
 * The run's commit and the file there, with as few git processes as possible (each is on the
 * trigger's path): a run of a known commit (a push, a tag) first looks in the mirror, and only
 * fetches when the commit is not there yet (one `cat-file` instead of a round trip to the server
 * for a redelivery or another pipeline of the same push); a branch run (manual: the branch head at
 * trigger time) and a pull request (its target branch must be current for its changed files)
 * always fetch first. A fetch and the read that follows are one started process (fetchAndRead).
 */
async function readFile(
  mirrors: RepositoryMirrors,
  input: { url: string; credential: ResolvedCredential | undefined; wanted: string[]; path: string; signal: AbortSignal | undefined },
  run: Run,
  event: FileEvent,
): Promise<{ mirror: string; commit: string; content: string | null }> {
  const fetchAndRead = (rev: string) =>
    mirrors.fetchAndRead({ url: input.url, credential: input.credential, extra: input.wanted, ...(input.signal && { signal: input.signal }) }, rev, input.path);
  if (run.commit !== null && event !== 'pull_request') {
    const mirror = await mirrors.prepare(input.url, input.credential);
    const known = await mirrors.readAt(mirror, run.commit, input.path).catch((e: unknown) => (e instanceof MirrorError ? null : Promise.reject(e)));
    if (known) return { mirror, ...known };
  }
  return fetchAndRead(run.commit ?? run.branch);
}
