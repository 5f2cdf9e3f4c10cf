/**
 * `hashFiles(globs)` for cache keys, as GitHub Actions defines it: one SHA-256 over the SHA-256 of
 * every regular file the globs select, in path order (links are not followed); an empty string when
 * nothing matches, so `deps-{{ hashFiles('*.lock') }}` still makes a key.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { walkWorkspace, workspaceMatcher } from './workspace-walk.js';

export async function hashFiles(workspace: string, globs: readonly string[]): Promise<string> {
  const matches = workspaceMatcher('hashFiles', globs);
  const files: string[] = [];
  await walkWorkspace(workspace, (path, kind) => {
    if (kind === 'file' && matches(path)) files.push(path);
  });
  if (files.length === 0) return '';
  files.sort();
  const all = createHash('sha256');
  for (const path of files) {
    const one = createHash('sha256');
    for await (const chunk of createReadStream(join(workspace, ...path.split('/')), { highWaterMark: 1024 * 1024 })) one.update(chunk as Buffer);
    // The name is hashed too: renaming a file changes the key.
    all.update(path).update('\0').update(one.digest());
  }
  return all.digest('hex');
}
