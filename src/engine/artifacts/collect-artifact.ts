/**
 * Stores the files of a run's workspace that an artifact's globs select. The workspace is written by
 * untrusted steps, so nothing in it is trusted:
 *   - symbolic links are never followed, neither as files nor as folders: a link that matches is
 *     recorded as refused (a step's `ln -s /etc/passwd dist/x` stores nothing);
 *   - each file is opened with O_NOFOLLOW and its descriptor's real path checked to lie inside the
 *     workspace, so a folder swapped for a link between the walk and the open is caught as well;
 *   - the size limit is checked on the sizes found before anything is stored, and again on the bytes
 *     actually read (a file still growing), and a failed artifact leaves nothing stored.
 * Objects are keyed by position (`<prefix>/<n>`), never by the file's name; the caller keeps the
 * names (which may hold any character) in its manifest.
 */
import { constants } from 'node:fs';
import { open, readlink } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { sourceTooLarge, type ArtifactStore } from '../../artifacts/artifact-store.js';
import { artifactKey } from '../../artifacts/artifact-key.js';
import { walkWorkspace, workspaceMatcher } from './workspace-walk.js';
import { formatSize } from '../../domain/sizes.js';

export interface ArtifactRequest {
  /** The run's workspace (absolute). */
  workspace: string;
  name: string;
  paths: readonly string[];
  store: ArtifactStore;
  /** Where this artifact's files go in the store (`runs/12/artifacts/3`). */
  keyPrefix: string;
  /** The most this artifact may hold, in bytes. */
  maxBytes: number;
}

export interface CollectedFile {
  /** The file's path in the workspace, `/`-separated. */
  path: string;
  size: number;
  sha256: string;
  key: string;
}

export interface RefusedFile {
  path: string;
  reason: string;
}

export interface CollectedArtifact {
  files: CollectedFile[];
  refused: RefusedFile[];
  bytes: number;
}

/** The artifact is larger than allowed; nothing of it was kept. */
export class ArtifactLimitError extends Error {
  constructor(
    readonly artifact: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`artifact "${artifact}" holds ${formatSize(bytes)}${bytes > limit ? '' : ' or more'}, over its limit of ${formatSize(limit)}; nothing was stored`);
    this.name = 'ArtifactLimitError';
  }
}

export async function collectArtifact(request: ArtifactRequest): Promise<CollectedArtifact> {
  const matches = workspaceMatcher(`artifact "${request.name}"`, request.paths);
  artifactKey(request.keyPrefix);
  const found: { path: string; size: number }[] = [];
  const refused: RefusedFile[] = [];
  await walkWorkspace(request.workspace, (path, kind, size) => {
    if (kind === 'dir' || !matches(path)) return;
    if (kind === 'file') found.push({ path, size });
    else refused.push({ path, reason: kind === 'link' ? 'a symbolic link (not followed)' : 'not a regular file' });
  });
  found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const planned = found.reduce((sum, f) => sum + f.size, 0);
  if (planned > request.maxBytes) throw new ArtifactLimitError(request.name, planned, request.maxBytes);

  const files: CollectedFile[] = [];
  let bytes = 0;
  try {
    for (const [index, file] of found.entries()) {
      const key = `${request.keyPrefix}/${index}`;
      const opened = await openInside(request.workspace, file.path);
      if (typeof opened === 'string') {
        refused.push({ path: file.path, reason: opened });
        continue;
      }
      try {
        // From the descriptor opened above: the store copies it in the kernel when it can.
        const stored = await request.store.putFile(key, opened, { maxBytes: request.maxBytes - bytes }).catch((error: unknown) => {
          if (sourceTooLarge(error)) throw new ArtifactLimitError(request.name, request.maxBytes + 1, request.maxBytes);
          throw error;
        });
        files.push({ path: file.path, size: stored.size, sha256: stored.sha256, key });
        bytes += stored.size;
      } finally {
        await opened.close().catch(() => undefined);
      }
    }
  } catch (error) {
    // All or nothing: what was already stored of this artifact goes again.
    await Promise.all(files.map((f) => request.store.delete(f.key).catch(() => undefined)));
    throw error;
  }
  return { files, refused, bytes };
}

/** The file opened for reading when it is a regular file inside the workspace, else why not. */
async function openInside(workspace: string, path: string) {
  const full = join(workspace, ...path.split('/'));
  const handle = await open(full, constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: NodeJS.ErrnoException) =>
    error.code === 'ELOOP' ? 'a symbolic link (not followed)' : `could not be opened (${error.code ?? error.message})`,
  );
  if (typeof handle === 'string') return handle;
  // The descriptor's own path: a folder on the way that became a link is seen here, race-free.
  const real = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => null);
  const inside = real !== null && real.startsWith(workspace.endsWith(sep) ? workspace : workspace + sep);
  const info = await handle.stat();
  if (!inside || !info.isFile()) {
    await handle.close();
    return inside ? 'not a regular file' : 'resolves outside the workspace (not followed)';
  }
  return handle;
}
