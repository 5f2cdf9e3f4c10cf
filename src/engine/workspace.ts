/**
 * Run workspaces. Each run gets `<root>/run-<runId>` (the checkout and the steps' working
 * directory) and a sibling `<root>/run-<runId>.home` used as the steps' HOME. HOME is kept out of
 * the workspace so `git clone` into the (empty) workspace works, and so tool state (~/.ansible,
 * ~/.gitconfig, the git askpass helper) never shows up in the checkout. It is per run, never the
 * server's HOME: that one may hold SSH keys, tokens and configuration the steps must not see.
 *
 * A sandboxed run's folders are made with its sandbox, ahead of the run (`makeSlot`), in
 * `<root>/sandbox-<random>/`; `run-<runId>` and `run-<runId>.home` are then links to them.
 *
 * The engine does not delete a workspace when a run ends (it is useful to inspect a failure);
 * the worker calls removeWorkspace or sweepWorkspaces on its own schedule.
 */
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readlink, realpath, rm, stat, symlink, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { relativePathProblem } from '../domain/validate-steps.js';
import { coerceError } from '../domain/errors.js';

export interface Workspace {
  /** Absolute, real path of the workspace folder. */
  path: string;
  /** Absolute, real path of the run's HOME folder. */
  home: string;
}

const ENTRY = /^run-(\d+)(\.home)?$/;
const SLOT = /^sandbox-[0-9a-f]{16}$/;
/** A warm sandbox is replaced well before this, so an older unlinked slot is a dead process's. */
const ORPHAN_SLOT_MS = 2 * 3600 * 1000;
/**
 * Staging folders beside a workspace (an extraction's, a snapshot's copy: stagingFolder), named
 * after it: `run-<id>.extract-…` in the root, `workspace.snapshot-…` in a slot; the unnamed
 * `.extract-…`/`.snapshot-…` are those of earlier versions.
 */
const STAGING = /^(?:run-(\d+)|workspace)?\.(?:extract|snapshot)-[A-Za-z0-9]+$/;
/**
 * Each lives for one extraction or until its snapshot is stored before the next step, and is
 * removed then; one untouched this long (and not of a run active here) is a dead process's.
 */
const ORPHAN_STAGING_MS = 3600 * 1000;

/** A fresh, empty staging folder beside `workspace` (on its filesystem, so what it holds moves in by rename). */
export function stagingFolder(workspace: string, kind: 'extract' | 'snapshot'): Promise<string> {
  return mkdtemp(join(dirname(workspace), `${basename(workspace)}.${kind}-`));
}

export function workspacePaths(root: string, runId: number): Workspace {
  if (!Number.isSafeInteger(runId) || runId < 0) throw new RangeError(`invalid run id: ${runId}`);
  const base = resolve(root, `run-${runId}`);
  return { path: base, home: `${base}.home` };
}

/** Creates the run's folders fresh (a leftover from an earlier attempt of the same run is removed). */
export async function createWorkspace(root: string, runId: number): Promise<Workspace> {
  const paths = workspacePaths(root, runId);
  // The usual case is a fresh run: try mkdir first and clear leftovers only when they exist
  // (this is on the trigger → first step path).
  const fresh = await Promise.all([makeFresh(paths.path, root), makeFresh(paths.home, root)]);
  if (fresh.includes(false)) {
    await removeWorkspace(root, runId);
    await mkdir(paths.path, { mode: 0o700 });
    await mkdir(paths.home, { mode: 0o700 });
  }
  const realRoot = await realpath(root);
  return { path: join(realRoot, basename(paths.path)), home: join(realRoot, basename(paths.home)) };
}

/** Creates the folder (and the root if needed); false when it already existed. */
async function makeFresh(path: string, root: string): Promise<boolean> {
  try {
    await mkdir(path, { mode: 0o700 });
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'ENOENT') throw error;
    await mkdir(root, { recursive: true, mode: 0o700 });
    return makeFresh(path, root);
  }
}

export async function removeWorkspace(root: string, runId: number): Promise<void> {
  const paths = workspacePaths(root, runId);
  await removeEntry(root, paths.path);
  await removeEntry(root, paths.home);
}

/**
 * A sandbox's folders, made before the run that will use them is known: `workspace` and `home`
 * (bound into the sandbox at the same paths, so a path means the same inside and out) and `pipes`
 * (the sandbox's FIFOs). `linkSlot` names them after the run.
 */
export interface SandboxSlot {
  dir: string;
  workspace: string;
  home: string;
  pipes: string;
}

export async function makeSlot(root: string): Promise<SandboxSlot> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  const dir = join(await realpath(root), `sandbox-${randomBytes(8).toString('hex')}`);
  await mkdir(dir, { mode: 0o755 });
  const slot = { dir, workspace: join(dir, 'workspace'), home: join(dir, 'home'), pipes: join(dir, 'pipes') };
  await Promise.all([slot.workspace, slot.home, slot.pipes].map((d) => mkdir(d, { mode: 0o700 })));
  return slot;
}

/** `run-<id>` and `run-<id>.home` become links to the slot's folders (a leftover of an earlier attempt is removed). */
export async function linkSlot(root: string, runId: number, slot: SandboxSlot): Promise<void> {
  await removeWorkspace(root, runId);
  const paths = workspacePaths(root, runId);
  await symlink(relative(root, slot.workspace), paths.path);
  await symlink(relative(root, slot.home), paths.home);
}

/** Removes a run's entry: a folder, or a link to a slot's folder, with the slot once it is empty of both. */
async function removeEntry(root: string, path: string): Promise<void> {
  const info = await lstat(path).catch(() => null);
  if (!info) return;
  if (!info.isSymbolicLink()) return forceRemove(path);
  const target = resolve(root, await readlink(path));
  await unlink(path).catch(() => undefined);
  const slot = dirname(target);
  // Only ever a slot of this root: a link placed by anyone else is removed, never followed.
  if (dirname(slot) !== resolve(root) || !SLOT.test(basename(slot))) return;
  await forceRemove(target);
  const left = await readdir(slot).catch(() => [] as string[]);
  if (left.every((name) => name === 'pipes')) await forceRemove(slot);
}

/**
 * Deletes workspaces older than `retentionMs` (by modification time), except those of runs in
 * `keepRunIds` (runs still active). Returns the run ids removed.
 */
export async function sweepWorkspaces(root: string, retentionMs: number, keepRunIds: Iterable<number>): Promise<number[]> {
  const keep = new Set(keepRunIds);
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return [];
  }
  const cutoff = Date.now() - retentionMs;
  const removed = new Set<number>();
  const linked = new Set<string>();
  /** Slots of runs active here: their staging folders may be in use. */
  const activeSlots = new Set<string>();
  for (const name of entries) {
    const match = ENTRY.exec(name);
    if (!match) continue;
    const runId = Number(match[1]);
    const info = await lstat(join(root, name)).catch(() => null);
    if (info?.isSymbolicLink()) {
      const slot = dirname(resolve(root, await readlink(join(root, name)).catch(() => '')));
      linked.add(slot);
      if (keep.has(runId)) activeSlots.add(slot);
    }
    if (keep.has(runId)) continue;
    if (!info || info.mtimeMs > cutoff) continue;
    await removeEntry(root, join(root, name));
    removed.add(runId);
  }
  // Staging folders a crash left, beside workspaces in the root and in slots.
  const stagingCutoff = Date.now() - ORPHAN_STAGING_MS;
  const sweepStaging = async (dir: string, names: string[]) => {
    for (const name of names) {
      const match = STAGING.exec(name);
      if (!match || (match[1] !== undefined && keep.has(Number(match[1])))) continue;
      const info = await lstat(join(dir, name)).catch(() => null);
      if (info?.isDirectory() && info.mtimeMs <= stagingCutoff) await forceRemove(join(dir, name));
    }
  };
  await sweepStaging(root, entries);
  for (const name of entries) {
    const slot = resolve(root, name);
    if (SLOT.test(name) && !activeSlots.has(slot)) await sweepStaging(slot, await readdir(slot).catch(() => [] as string[]));
  }
  // Slots no run links to: a warm sandbox of a process that died before it was used.
  const orphanCutoff = Date.now() - Math.max(retentionMs, ORPHAN_SLOT_MS);
  for (const name of entries) {
    if (!SLOT.test(name) || linked.has(resolve(root, name))) continue;
    const info = await lstat(join(root, name)).catch(() => null);
    if (info && info.mtimeMs <= orphanCutoff) await forceRemove(join(root, name));
  }
  return [...removed].sort((a, b) => a - b);
}

/**
 * Resolves a user-given relative path inside the workspace, refusing `..`, absolute paths and
 * escapes through symlinks (the deepest existing ancestor is resolved with realpath). The target
 * itself need not exist yet (a clone directory).
 */
export async function resolveInside(workspace: string, relativePath: string): Promise<string> {
  const problem = relativePathProblem(relativePath);
  if (problem) throw new WorkspacePathError(problem);
  const base = await realpath(workspace);
  const target = resolve(base, relativePath);
  let existing = target;
  const missing: string[] = [];
  for (;;) {
    try {
      existing = await realpath(existing);
      break;
    } catch (thrown) {
      if ((thrown as NodeJS.ErrnoException).code !== 'ENOENT') throw coerceError(thrown);
      const parent = resolve(existing, '..');
      missing.unshift(existing.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
      existing = parent;
    }
  }
  const real = join(existing, ...missing);
  if (!isInside(base, real)) throw new WorkspacePathError('Path leaves the workspace (through a symlink)');
  return real;
}

export class WorkspacePathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkspacePathError';
  }
}

function isInside(base: string, target: string): boolean {
  const rel = relative(base, target);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** rm -rf that also copes with read-only folders a step left behind (e.g. Go's module cache). */
async function forceRemove(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true, maxRetries: 2 });
  } catch {
    await makeWritable(path);
    await rm(path, { recursive: true, force: true, maxRetries: 2 });
  }
}

async function makeWritable(path: string): Promise<void> {
  const info = await lstat(path).catch(() => null);
  if (!info?.isDirectory()) return;
  await chmod(path, 0o700).catch(() => undefined);
  for (const name of await readdir(path).catch(() => [] as string[])) await makeWritable(join(path, name));
}

/** Whether a resolved path is an existing directory (for working_directory). */
export async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

/** Whether a resolved path is an existing regular file (following symlinks). */
export async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

/** Whether a resolved path exists (following symlinks). */
export async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}
