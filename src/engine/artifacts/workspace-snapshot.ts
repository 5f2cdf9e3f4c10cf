/**
 * Workspace snapshots, taken incrementally: the first snapshot of a run archives the whole
 * workspace; each later one only what changed since the one before (by inode, size, mtime and
 * ctime, which no process can set back) plus a manifest of every path the workspace held. Re-packing
 * the whole workspace after every step cost +46% wall time on a pipeline of ten 10 s steps writing
 * 200 MB in all (bench/artifacts.ts); a delta costs what the step changed.
 *
 *   runs/<run>/snapshots/s<step>.tgz    the changed entries (files, links, folders; gzip'd tar)
 *   runs/<run>/snapshots/s<step>.json   { base: the previous snapshot's key or null, entries: every
 *                                         path, folders ending in `/` }
 *
 * Taking one is staged: the changed entries are copied aside (the snapshot is that moment) and the
 * next step starts while the copy is packed and stored (SnapshotChain).
 *
 * A chain never leaves its run (a retry run starts its own chain with a full snapshot), so the
 * run's retention removes a chain whole. Restoring applies the chain oldest first: before each
 * delta, whatever its manifest does not list is removed (deleted paths, and paths whose kind
 * changed), then the delta is unpacked over the rest. A snapshot without a manifest is a whole
 * workspace (as stored before deltas) and is unpacked alone.
 */
import { constants } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, readlink, rm, symlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import type { ArtifactStore } from '../../artifacts/artifact-store.js';
import type { FileOwner } from '../ports.js';
import { unpackCache } from './cache-archive.js';
import { stagingFolder } from '../workspace.js';

interface Manifest {
  base: string | null;
  /** How many entries the delta holds (0: an empty archive, nothing to unpack). */
  changed: number;
  entries: string[];
}

/**
 * Entries changed this close before a walk are archived again by the next snapshot: a write in the
 * same coarse clock tick as the walk (a process the step left running) could keep the ctime the walk saw.
 */
const RACY_NS = 2_000_000_000n;
/** A chain longer than any run's steps is a loop or a corrupt manifest. */
const MAX_CHAIN = 10_000;

export const manifestKeyOf = (snapshotKey: string) => snapshotKey.replace(/\.tgz$/, '.json');

interface Walked {
  /** Every path, folders ending in `/`, parents before their entries. */
  entries: string[];
  /** What each entry was when walked (`''` for one changed too recently to trust). */
  signatures: Map<string, string>;
  bytes: number;
}

/** A snapshot copied out of the workspace, waiting to be packed and stored. */
export interface StagedSnapshot {
  /** The object this step's snapshot is: its own, or the previous one's when nothing changed (`unchanged`). */
  key: string;
  /**
   * Nothing changed since the previous snapshot (no entry new, changed or gone): that snapshot's
   * object is this step's too, and nothing is copied or stored. A step that leaves the workspace
   * as it found it then costs a walk, not an empty delta, a manifest and two fsyncs (~5 ms a step).
   */
  unchanged?: true;
  manifest: Manifest;
  /** The copies of the changed entries (a private folder beside the workspace), relative paths as in the workspace. */
  dir: string;
  changed: string[];
}

/**
 * What a run's snapshots so far left behind: the signatures the next delta is taken against.
 * Taking one has two halves. `stage` walks the workspace and copies what changed into a private
 * folder: the snapshot is the workspace at that moment, and the next step may start. `publish` packs
 * and stores the copy meanwhile (gzip, SHA-256 and fsync of 20 MB cost seconds on a loaded machine;
 * on the path between two steps they were the whole overhead). Both run one at a time, in order.
 */
export class SnapshotChain {
  private last: { key: string; signatures: Map<string, string> } | null = null;
  private staging: Promise<unknown> = Promise.resolve();
  private publishing: Promise<unknown> = Promise.resolve();
  /** Keys whose publishing failed: a delta built on one of them cannot be restored either. */
  private readonly failed = new Set<string>();

  /** `racyNs`: how recent a change is re-archived by the next snapshot too (tests set it below 0: none). */
  constructor(private readonly racyNs = RACY_NS) {}

  /**
   * Copies what changed since the last snapshot out of `workspace`. Returns `over` with the
   * workspace's size when it is over `limit` (then nothing is kept and the next snapshot is whole).
   */
  stage(workspace: string, key: string, limit: number): Promise<StagedSnapshot | { over: number }> {
    const run = this.staging.then(() => this.stageNow(workspace, key, limit));
    this.staging = run.catch(() => undefined);
    return run;
  }

  /** Packs and stores a staged snapshot, then removes its copy; returns the bytes stored. */
  publish(store: ArtifactStore, staged: StagedSnapshot): Promise<number> {
    const run = this.publishing.then(() => this.publishNow(store, staged));
    this.publishing = run.catch(() => undefined);
    return run;
  }

  /** Both halves at once (tests, and callers with nothing to overlap). */
  async take(store: ArtifactStore, workspace: string, key: string, limit: number): Promise<{ stored: number } | { over: number }> {
    const staged = await this.stage(workspace, key, limit);
    return 'over' in staged ? staged : { stored: await this.publish(store, staged) };
  }

  private async stageNow(workspace: string, key: string, limit: number): Promise<StagedSnapshot | { over: number }> {
    const base = this.last && !this.failed.has(this.last.key) ? this.last : null;
    // Whatever happens next, a snapshot not staged is nobody's base.
    this.last = null;
    const walked = await walkSignatures(workspace, this.racyNs);
    if (walked.bytes > limit) return { over: walked.bytes };
    const changed = walked.entries.filter((path) => {
      const before = base?.signatures.get(path);
      return before === undefined || before === '' || before !== walked.signatures.get(path);
    });
    // Every entry as it was and none gone (as many entries as the base had): the base is this snapshot.
    if (base && changed.length === 0 && walked.entries.length === base.signatures.size) {
      this.last = { key: base.key, signatures: walked.signatures };
      return { key: base.key, unchanged: true, dir: '', changed, manifest: { base: base.key, changed: 0, entries: walked.entries } };
    }
    const dir = await stagingFolder(workspace, 'snapshot');
    try {
      await copyEntries(workspace, dir, changed);
    } catch (thrown) {
      await rm(dir, { recursive: true, force: true });
      throw thrown;
    }
    this.last = { key, signatures: walked.signatures };
    return { key, dir, changed, manifest: { base: base?.key ?? null, changed: changed.length, entries: walked.entries } };
  }

  private async publishNow(store: ArtifactStore, staged: StagedSnapshot): Promise<number> {
    const { key, manifest, dir, changed } = staged;
    // Published before this one (publishing goes in order): stored, or it failed and so does this.
    if (staged.unchanged) {
      if (this.failed.has(key)) throw new Error(`the snapshot it is the same as (${key}) could not be stored`);
      return 0;
    }
    const manifestKey = manifestKeyOf(key);
    try {
      if (manifest.base !== null && this.failed.has(manifest.base)) throw new Error(`the snapshot it builds on (${manifest.base}) could not be stored`);
      const body =
        changed.length === 0
          ? Readable.from([gzipSync(Buffer.alloc(1024))]) // an empty tar: the key exists, as a retry checks
          : Readable.from(tar.create({ cwd: dir, gzip: { level: 1 }, portable: true, follow: false, noDirRecurse: true }, changed) as AsyncIterable<Buffer>);
      const stored = await store.put(key, body, { contentType: 'application/gzip' });
      await store.put(manifestKey, Readable.from([Buffer.from(JSON.stringify(manifest))]), { contentType: 'application/json' });
      return stored.size;
    } catch (thrown) {
      this.failed.add(key);
      await store.delete(key).catch(() => undefined);
      await store.delete(manifestKey).catch(() => undefined);
      throw thrown;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/**
 * Copies the entries (parents before children) from the workspace into `dir`, links as links, with
 * their modes and modification times. A copy, never a hard link: the next step may rewrite a file in place.
 */
async function copyEntries(workspace: string, dir: string, entries: readonly string[]): Promise<void> {
  const made = new Set<string>();
  // Folders get their modes and times last (deepest first): a read-only one must still take its entries.
  const folders: { to: string; mode: number; atime: Date; mtime: Date }[] = [];
  const parentOf = async (path: string) => {
    const parent = dirname(path);
    if (parent === '.' || made.has(parent)) return;
    await mkdir(join(dir, parent), { recursive: true });
    made.add(parent);
  };
  for (const entry of entries) {
    const path = entry.endsWith('/') ? entry.slice(0, -1) : entry;
    const from = join(workspace, path);
    const to = join(dir, path);
    await parentOf(path);
    const info = await lstat(from);
    if (info.isDirectory()) {
      await mkdir(to, { recursive: true });
      made.add(path);
      folders.push({ to, mode: info.mode & 0o7777, atime: info.atime, mtime: info.mtime });
    } else if (info.isSymbolicLink()) await symlink(await readlink(from), to);
    else if (info.isFile()) {
      await copyFile(from, to, constants.COPYFILE_FICLONE);
      await utimes(to, info.atime, info.mtime);
    }
  }
  for (const folder of folders.reverse()) {
    await chmod(folder.to, folder.mode);
    await utimes(folder.to, folder.atime, folder.mtime);
  }
}

/** Walks the workspace without following links, noting each entry's signature and the files' bytes. */
async function walkSignatures(root: string, racyNs: bigint): Promise<Walked> {
  const racyAfter = BigInt(Date.now()) * 1_000_000n - racyNs;
  const walked: Walked = { entries: [], signatures: new Map(), bytes: 0 };
  const visit = async (dir: string, prefix: string): Promise<void> => {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const full = join(dir, name);
      const info = await lstat(full, { bigint: true }).catch(() => null);
      if (!info) continue; // gone meanwhile
      const path = `${prefix}${name}`;
      const kind = info.isDirectory() ? 'd' : info.isSymbolicLink() ? 'l' : info.isFile() ? 'f' : null;
      if (kind === null) continue; // sockets, pipes, devices: never archived
      const entry = kind === 'd' ? `${path}/` : path;
      walked.entries.push(entry);
      const racy = info.ctimeNs > racyAfter || info.mtimeNs > racyAfter;
      walked.signatures.set(entry, racy ? '' : `${kind}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}:${info.mode}`);
      if (kind === 'f') walked.bytes += Number(info.size);
      if (kind === 'd') await visit(full, `${path}/`);
    }
  };
  await visit(root, '');
  return walked;
}

/** Restores a snapshot (and the chain before it) into `workspace`; throws when a part of it is missing. */
export async function restoreWorkspaceSnapshot(store: ArtifactStore, key: string, workspace: string, owner?: FileOwner): Promise<number> {
  const chain: { key: string; manifest: Manifest | null }[] = [];
  for (let at: string | null = key; at !== null;) {
    if (chain.length >= MAX_CHAIN || chain.some((c) => c.key === at)) throw new Error(`the snapshot chain of ${key} loops`);
    const manifest = await readManifest(store, at, chain.length === 0);
    chain.unshift({ key: at, manifest });
    at = manifest?.base ?? null;
    // A base lies beside its delta (the same run's snapshots): anything else is not ours.
    if (at !== null && !sameFolder(at, key)) throw new Error(`the snapshot ${chain[0]!.key} names a base outside its run: ${at}`);
  }
  let entries = 0;
  for (const { key: part, manifest } of chain) {
    if (manifest) await prune(workspace, new Set(manifest.entries));
    entries = manifest ? manifest.entries.length : entries;
    if (manifest?.changed === 0) {
      if (!(await store.stat(part))) throw new Error(`the workspace snapshot ${part} is not in ${store.location}`);
      continue;
    }
    const body = await store.get(part);
    if (!body) throw new Error(`the workspace snapshot ${part} is not in ${store.location}`);
    const unpacked = await unpackCache(body, workspace, owner);
    if (!manifest) entries = unpacked.entries;
  }
  return entries;
}

/**
 * Whether every part of the snapshot's chain is in the store: a retry is offered only then (a part
 * gone, or a manifest that is not one, is as good as no snapshot).
 */
export async function snapshotRestorable(store: ArtifactStore, key: string): Promise<boolean> {
  try {
    const seen = new Set<string>();
    for (let at: string | null = key; at !== null;) {
      if (seen.size >= MAX_CHAIN || seen.has(at) || (at !== key && !sameFolder(at, key))) return false;
      seen.add(at);
      if (!(await store.stat(at))) return false;
      at = (await readManifest(store, at, at === key))?.base ?? null;
    }
    return true;
  } catch {
    return false;
  }
}

async function readManifest(store: ArtifactStore, key: string, first: boolean): Promise<Manifest | null> {
  const body = await store.get(manifestKeyOf(key));
  if (!body) {
    // The newest may be a whole snapshot stored before deltas; a base always has its manifest.
    if (first) return null;
    throw new Error(`the manifest of the workspace snapshot ${key} is not in ${store.location}`);
  }
  const parsed = JSON.parse(await text(body)) as Partial<Manifest>;
  if (!Array.isArray(parsed.entries) || !(parsed.base === null || typeof parsed.base === 'string'))
    throw new Error(`the manifest of the workspace snapshot ${key} is not one`);
  return { base: parsed.base, changed: typeof parsed.changed === 'number' ? parsed.changed : -1, entries: parsed.entries.map(String) };
}

const sameFolder = (a: string, b: string) => a.slice(0, a.lastIndexOf('/')) === b.slice(0, b.lastIndexOf('/'));

/** Removes every entry of the workspace the manifest does not list (as the same kind), links never followed. */
async function prune(root: string, keep: Set<string>): Promise<void> {
  const visit = async (dir: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = join(dir, entry.name);
      const path = entry.isDirectory() ? `${prefix}${entry.name}/` : `${prefix}${entry.name}`;
      if (!keep.has(path)) await rm(full, { recursive: true, force: true });
      else if (entry.isDirectory()) await visit(full, path);
    }
  };
  await visit(root, '');
}
