/**
 * Walking a run's workspace, which untrusted steps wrote: folders are entered, symbolic links are
 * reported and never followed, and every path comes out relative to the workspace with `/`.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import picomatch from 'picomatch';
import { workspaceGlobProblem } from '../../domain/workspace-glob.js';

export type EntryKind = 'file' | 'dir' | 'link' | 'other';

export async function walkWorkspace(root: string, visit: (path: string, kind: EntryKind, size: number) => void, dir = root): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const full = join(dir, entry.name);
    const path = relative(root, full).split(sep).join('/');
    if (entry.isDirectory()) {
      visit(path, 'dir', 0);
      await walkWorkspace(root, visit, full);
    } else if (entry.isSymbolicLink()) visit(path, 'link', 0);
    else if (entry.isFile()) visit(path, 'file', (await lstat(full).catch(() => null))?.size ?? 0);
    else visit(path, 'other', 0);
  }
}

/** A matcher for workspace globs; throws (naming `what`) on a glob that could leave the workspace. */
export function workspaceMatcher(what: string, globs: readonly string[], options: { dot?: boolean } = {}): (path: string) => boolean {
  for (const glob of globs) {
    const problem = workspaceGlobProblem(glob);
    if (problem) throw new Error(`${what}: ${problem}`);
  }
  return picomatch([...globs], { dot: options.dot ?? false });
}
