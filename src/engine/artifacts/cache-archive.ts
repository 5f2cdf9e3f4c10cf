/**
 * A cache's paths as one gzip'd tar, and back. Packed by node-tar; extracted by GNU tar into an
 * empty folder and moved into the workspace (tar-extract.ts): members with absolute paths or `..`
 * are refused, and nothing is written through a symbolic link, so an archive a pull request's step
 * shaped cannot write outside the workspace. Links inside a cache (`node_modules/.bin`) are kept as
 * links, never followed while packing.
 */
import { Readable } from 'node:stream';
import * as tar from 'tar';
import { walkWorkspace, workspaceMatcher } from './workspace-walk.js';
import { extractInto } from './tar-extract.js';

/** The entries to archive: what the globs select, minus what a selected folder already holds. */
export async function cacheEntries(workspace: string, paths: readonly string[]): Promise<string[]> {
  const matches = workspaceMatcher('cache', paths, { dot: true });
  const selected: string[] = [];
  await walkWorkspace(workspace, (path, kind) => {
    if (kind !== 'other' && matches(path)) selected.push(path);
  });
  selected.sort();
  const top: string[] = [];
  for (const path of selected) {
    const last = top[top.length - 1];
    if (last !== undefined && path.startsWith(`${last}/`)) continue;
    top.push(path);
  }
  return top;
}

/** The archive of the cache's paths, streamed as it is made. */
export async function packCache(workspace: string, paths: readonly string[]): Promise<{ entries: number; stream: Readable }> {
  const entries = await cacheEntries(workspace, paths);
  const pack = tar.create({ cwd: workspace, gzip: { level: 1 }, portable: true, follow: false, noPax: false }, entries);
  return { entries: entries.length, stream: Readable.from(pack as AsyncIterable<Buffer>) };
}

export interface UnpackOwner {
  uid: number;
  gid: number;
}

/**
 * Extracts a cache archive into the workspace. With `owner` (the step user, when the server is
 * root) tar runs as them, so every file is theirs and the step can change what was restored.
 */
export async function unpackCache(body: Readable, workspace: string, owner?: UnpackOwner): Promise<{ entries: number }> {
  return extractInto(body, workspace, owner);
}
