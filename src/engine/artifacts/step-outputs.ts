/**
 * A step's outputs around its execution, through the RunOutputs port:
 *
 *   before the step   its `from:` (another pipeline's latest successful artifacts; none fails the
 *                     step before it runs), then restore its cache: the exact key, else the newest entry matching a restore
 *                     key, scope by scope (domain/cache-key.ts pickCache). A cache is a speed-up:
 *                     a store that fails is a warning in the log, never the step's failure.
 *   after the step    1. its artifact (when `artifacts.when` matches the result): stored whole or
 *                        not at all; a failure to store (limit, store down) fails the step with the
 *                        storage error, since what it built is lost;
 *                     2. its cache, when it succeeded and the exact key was missing (warnings only);
 *                     3. a snapshot of the workspace, when it succeeded, a later step needs it and
 *                        the workspace is under the snapshot limit (for retrying from a later step);
 *                        only what changed since the run's previous snapshot (workspace-snapshot.ts).
 *                        What changed is copied aside on the step's path; packing and storing it
 *                        goes on in the background while the next step runs (the run waits for it
 *                        before it ends: RunOutputsState.settled). The step's log is closed at the
 *                        step's end, so live viewers get its last line before the next step's
 *                        output; a snapshot that then fails to be stored is told by a line of its
 *                        own in the step's (and so the run's) log and on the step's record.
 *
 * Everything the step's processes wrote is untrusted: links are never followed, globs never leave
 * the workspace (collect-artifact.ts, cache-archive.ts), and cache archives are extracted by GNU
 * tar into an empty folder, then moved in (tar-extract.ts): no `..`, no absolute members, no
 * writes through links.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { coerceError } from '../../domain/errors.js';
import { renderCacheKey, pickCache, CacheKeyError } from '../../domain/cache-key.js';
import { artifactName } from '../../domain/step-outputs.js';
import { formatSize } from '../../domain/sizes.js';
import type { FileOwner } from '../ports.js';
import type { PlannedStep } from '../plan.js';
import type { StepOutput } from '../run-logs.js';
import type { StepOutcome } from '../run-step.js';
import { collectArtifact } from './collect-artifact.js';
import { packCache, unpackCache } from './cache-archive.js';
import { hashFiles } from './hash-files.js';
import { SnapshotChain, restoreWorkspaceSnapshot, type StagedSnapshot } from './workspace-snapshot.js';
import { artifactPrefixOf, snapshotKeyOf, type RunOutputs, type StoredCache, type TakenArtifacts } from './run-outputs.js';

/** What one run's steps share: the port, the bytes of artifacts stored so far, the artifact names taken. */
export class RunOutputsState {
  storedBytes = 0;
  /** The run's snapshots so far: each one after the first stores only what changed. */
  readonly snapshots = new SnapshotChain();
  private readonly names = new Map<number, string>();
  /** Background work of finished steps still going (their snapshots being stored); never rejects. */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    readonly outputs: RunOutputs,
    readonly runId: number,
    readonly branch: string,
    steps: readonly PlannedStep[],
  ) {
    // Matrix cells share one definition, so one `name:` would be taken by every cell: each cell after the first gets its own name appended.
    const taken = new Set<string>();
    for (const step of steps) {
      if (!step.artifacts) continue;
      let name = artifactName(step.name, step.artifacts);
      if (taken.has(name.toLowerCase())) name = `${name}-${artifactName(step.name, { paths: [] })}`.slice(0, 100);
      for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${name.slice(0, 95)}-${n}`;
      taken.add(name.toLowerCase());
      this.names.set(step.stepId, name);
    }
  }

  artifactNameOf(step: PlannedStep): string {
    return this.names.get(step.stepId)!;
  }

  /** Keeps `work` (which must not reject) until it ends: the run waits for it (settled). */
  track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  /** Resolves once every tracked piece of work has ended: the run may end and its workspace go only then. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }
}

/**
 * What a step's background work needs once the step has ended: `ended` resolves once its result
 * is reported and its log closed, and `note` then writes a line into its log (reopened, appended).
 */
export interface StepAfterEnd {
  ended: Promise<void>;
  note(line: string): Promise<void>;
}

export interface StepOutputsInput {
  state: RunOutputsState;
  step: PlannedStep;
  workspace: string;
  output: StepOutput;
  owner?: FileOwner;
  /** Whether a later step needs this one (only then is a snapshot worth taking). */
  needed: boolean;
  /** For work that ends after the step (its snapshot's storing); without it, that work is awaited on the step's path. */
  afterEnd?: StepAfterEnd;
}

/** What the restore found, for the save after the step. */
export interface CacheRestore {
  key: string;
  exact: boolean;
}

export async function restoreStepCache(input: StepOutputsInput): Promise<CacheRestore | null> {
  const { state, step, workspace, output } = input;
  const cache = step.cache;
  if (!cache) return null;
  const { outputs } = state;
  const context = { branch: state.branch, hashFiles: (globs: string[]) => hashFiles(workspace, globs) };
  let key: string;
  let restoreKeys: string[];
  try {
    key = await renderCacheKey(cache.key, context);
    restoreKeys = await Promise.all((cache.restore_keys ?? []).map((k) => renderRestoreKey(k, context)));
  } catch (thrown) {
    output.note(`cache: not restored: ${coerceError(thrown).message}`);
    return null;
  }
  try {
    const entries = await outputs.findCaches(outputs.cacheScopes.read);
    const picked = pickCache(entries, { key, restoreKeys, scopes: outputs.cacheScopes.read });
    if (!picked) {
      await outputs.cacheLookedUp({ restored: null, exact: false });
      output.note(`cache: no entry for key ${key}${restoreKeys.length > 0 ? ` or restore keys ${restoreKeys.join(', ')}` : ''}`);
      return { key, exact: false };
    }
    const body = await outputs.store.get(picked.entry.objectKey);
    if (!body) {
      await outputs.cacheLookedUp({ restored: null, exact: false });
      output.note(`cache: entry ${picked.entry.key} is listed but its archive is gone from the store; not restored`);
      return { key, exact: false };
    }
    const { entries: count } = await unpackCache(body, workspace, input.owner);
    await outputs.cacheLookedUp({ restored: picked.entry, exact: picked.exact });
    output.note(`cache: restored ${picked.exact ? 'key' : 'from restore key match'} ${picked.entry.key} (${scopeLabel(picked.entry)}, ${count} entries)`);
    return { key, exact: picked.exact };
  } catch (thrown) {
    output.note(`cache: not restored (the step runs without it): ${coerceError(thrown).message}`);
    return { key, exact: false };
  }
}

/**
 * Before the step, its `from:`: another pipeline's latest successful artifacts, unpacked into the
 * workspace at their paths (as a cache: no `..`, no absolute members, nothing written through a
 * link). Returns why not, which fails the step before it runs; null when they are in.
 */
export async function takeArtifactsFrom(input: StepOutputsInput): Promise<string | null> {
  const { state, step, workspace, output } = input;
  if (!step.from) return null;
  const what = `pipeline ${typeof step.from.pipeline === 'number' ? step.from.pipeline : `"${step.from.pipeline}"`}${step.from.branch ? ` on branch "${step.from.branch}"` : ''}`;
  let taken: TakenArtifacts;
  try {
    taken = await state.outputs.artifactsFrom(step.from);
  } catch (thrown) {
    return `from: no artifacts of ${what}: ${coerceError(thrown).message}`;
  }
  const source = `run #${taken.run.number} of "${taken.run.pipeline}" on branch "${taken.run.branch}"`;
  try {
    await unpackCache(taken.archive, workspace, input.owner);
  } catch (thrown) {
    taken.archive.destroy();
    return `from: the artifacts of ${source} could not be put into the workspace: ${coerceError(thrown).message}`;
  }
  output.note(
    `from: ${taken.files} ${taken.files === 1 ? 'file' : 'files'} (${formatSize(taken.bytes)}) of ${taken.artifacts.map((n) => `"${n}"`).join(', ')} from ${source}`,
  );
  return null;
}

/** A restore key is a prefix: it may end in `-`, which a whole key may too, and may be rendered from expressions. */
async function renderRestoreKey(template: string, context: Parameters<typeof renderCacheKey>[1]): Promise<string> {
  try {
    return await renderCacheKey(template, context);
  } catch (thrown) {
    if (thrown instanceof CacheKeyError) throw new CacheKeyError(`restore key "${template}": ${thrown.message}`);
    throw thrown;
  }
}

const scopeLabel = (entry: StoredCache) =>
  entry.scope.startsWith('pr-') ? `pull request ${entry.scope.slice(3)}` : entry.scope.replace(/^branch-/, 'branch ');

/** After the step: artifact, cache, snapshot. Returns the step's outcome, failed when its artifact could not be stored. */
export async function afterStep(input: StepOutputsInput, outcome: StepOutcome, restored: CacheRestore | null): Promise<StepOutcome> {
  let result = outcome;
  if (input.step.artifacts && artifactWanted(input.step.artifacts.when, outcome.status)) result = await storeArtifact(input, result);
  if (result.status !== 'success') return result;
  if (input.step.cache && restored && !restored.exact) await saveCache(input, restored.key);
  const noSnapshot = input.needed ? await takeSnapshot(input) : null;
  // Known on the step's path: on the step's record with its result (the step still succeeded).
  if (noSnapshot !== null) return { ...result, message: result.message === undefined ? noSnapshot : `${result.message}; ${noSnapshot}` };
  return result;
}

function artifactWanted(when: 'on_success' | 'on_failure' | 'always' | undefined, status: StepOutcome['status']): boolean {
  const failed = status === 'failed' || status === 'timeout';
  switch (when ?? 'on_success') {
    case 'on_success':
      return status === 'success';
    case 'on_failure':
      return failed;
    case 'always':
      return status === 'success' || failed;
  }
}

async function storeArtifact(input: StepOutputsInput, outcome: StepOutcome): Promise<StepOutcome> {
  const { state, step, workspace, output } = input;
  const { outputs } = state;
  const spec = step.artifacts!;
  const name = state.artifactNameOf(step);
  const keyPrefix = artifactPrefixOf(state.runId, step.stepId);
  const runLeft = Math.max(0, outputs.limits.runArtifactBytes - state.storedBytes);
  const runBound = runLeft < outputs.limits.artifactBytes;
  const expireInDays = spec.expire_in_days ?? null;
  try {
    const collected = await collectArtifact({
      workspace,
      name,
      paths: spec.paths,
      store: outputs.store,
      keyPrefix,
      maxBytes: Math.min(outputs.limits.artifactBytes, runLeft),
    });
    state.storedBytes += collected.bytes;
    await outputs.artifactStored({ stepId: step.stepId, name, keyPrefix, ...collected, expireInDays, error: null });
    output.note(`artifact "${name}": ${collected.files.length} ${collected.files.length === 1 ? 'file' : 'files'}, ${formatSize(collected.bytes)} stored`);
    for (const refused of collected.refused.slice(0, 20)) output.note(`artifact "${name}": ${refused.path} refused: ${refused.reason}`);
    if (collected.refused.length > 20) output.note(`artifact "${name}": ${collected.refused.length - 20} more paths refused`);
    return outcome;
  } catch (thrown) {
    let message = coerceError(thrown).message;
    if (runBound && /over its limit/.test(message))
      message += ` (the run's artifacts may hold ${formatSize(outputs.limits.runArtifactBytes)} in all; ${formatSize(runLeft)} was left)`;
    output.note(`error: ${message}`);
    await outputs
      .artifactStored({ stepId: step.stepId, name, keyPrefix, files: [], refused: [], bytes: 0, expireInDays, error: message })
      .catch(() => undefined);
    // The step's own failure stays its message; a step that succeeded fails now, since what it built is lost.
    if (outcome.status !== 'success') return outcome;
    return { ...outcome, status: 'failed', message: `its artifact could not be stored: ${message}` };
  }
}

async function saveCache(input: StepOutputsInput, key: string): Promise<void> {
  const { state, step, workspace, output } = input;
  const { outputs } = state;
  const objectKey = outputs.newCacheKey();
  try {
    const { entries, stream } = await packCache(workspace, step.cache!.paths);
    if (entries === 0) {
      output.note(`cache: nothing matches ${step.cache!.paths.join(', ')}; not saved`);
      return;
    }
    const limit = new ByteLimit(outputs.limits.cacheBytes);
    const stored = await outputs.store.put(objectKey, pipeInto(stream, limit), { contentType: 'application/gzip' }).catch((thrown: unknown) => {
      if (limit.exceeded) throw new Error(`the archive is over the cache limit of ${formatSize(outputs.limits.cacheBytes)}`);
      throw thrown;
    });
    const saved = await outputs.cacheSaved({ stepId: step.stepId, scope: outputs.cacheScopes.write, key, objectKey, size: stored.size, entries });
    if (saved === 'exists') {
      await outputs.store.delete(objectKey).catch(() => undefined);
      output.note(`cache: key ${key} was saved by another run meanwhile; kept theirs`);
    } else output.note(`cache: saved key ${key} (${formatSize(stored.size)})`);
  } catch (thrown) {
    await outputs.store.delete(objectKey).catch(() => undefined);
    output.note(`cache: not saved: ${coerceError(thrown).message}`);
  }
}

/**
 * Stages the snapshot (the workspace as the step left it, copied aside) on the step's path, then
 * stores it in the background when the step has an `afterEnd` (the run waits for it before it
 * ends). A failure to store it, found after the step ended, is a line of its own in the step's log
 * and on the step's record (RunOutputs.snapshotFailed); it never fails the step or the run.
 * Returns why there is no snapshot when that is known on the step's path (for the step's record).
 */
async function takeSnapshot(input: StepOutputsInput): Promise<string | null> {
  const { state, step, workspace, output } = input;
  const { outputs } = state;
  const limit = outputs.limits.snapshotBytes;
  if (limit === null) return null;
  const objectKey = snapshotKeyOf(state.runId, step.stepId);
  const why = (thrown: unknown) => `snapshot: not taken (a retry from a later step will not be offered): ${coerceError(thrown).message}`;
  // Known on the step's path (its log still open): said there, and returned for the step's record.
  const notTaken = (thrown: unknown) => {
    const message = why(thrown);
    output.note(message);
    return message;
  };
  let staged: StagedSnapshot | { over: number };
  try {
    staged = await state.snapshots.stage(workspace, objectKey, limit);
  } catch (thrown) {
    return notTaken(thrown);
  }
  if ('over' in staged) {
    output.note(
      `snapshot: the workspace holds ${formatSize(staged.over)}, over the snapshot limit of ${formatSize(limit)}; a retry from a later step will not be offered`,
    );
    return null;
  }
  const stored = state.snapshots
    .publish(outputs.store, staged)
    // `staged.key`: the previous snapshot's object when the step changed nothing.
    .then((size) => outputs.snapshotTaken({ stepId: step.stepId, objectKey: staged.key, size }));
  const { afterEnd } = input;
  if (!afterEnd) {
    return stored.then(() => null, notTaken);
  }
  state.track(
    stored.catch(async (thrown: unknown) => {
      // After the step's result and its log's close: the line goes after its last one, and the
      // step's own result does not overwrite the record.
      await afterEnd.ended;
      const message = why(thrown);
      await Promise.all([afterEnd.note(message).catch(() => undefined), outputs.snapshotFailed({ stepId: step.stepId, message }).catch(() => undefined)]);
    }),
  );
  return null;
}

/** Restores a retry's workspace from the original run's snapshot (and the deltas before it); throws when it cannot. */
export async function restoreSnapshot(outputs: RunOutputs, objectKey: string, workspace: string, owner?: FileOwner): Promise<number> {
  return restoreWorkspaceSnapshot(outputs.store, objectKey, workspace, owner);
}

function pipeInto(source: Readable, through: Transform): Readable {
  source.on('error', (error) => through.destroy(error));
  return source.pipe(through);
}

/** Fails the stream once more than `limit` bytes went through. */
class ByteLimit extends Transform {
  private seen = 0;
  exceeded = false;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      this.exceeded = true;
      callback(new Error('over the size limit'));
      return;
    }
    callback(null, chunk);
  }
}
