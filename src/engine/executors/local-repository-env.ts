/**
 * A local repository the operator allowed (ANSFLOW_ALLOW_LOCAL_REPOSITORIES) belongs to the
 * server's user, while a sandboxed step runs as another: git's ownership check ("dubious
 * ownership") would refuse to read it. `-c safe.directory` does not help, because git clears
 * command-line configuration for the upload-pack it starts on a local clone, so that one path is
 * trusted in a global config of the run's own (the sandbox mounts the repository read-only).
 */
import { chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { localRepositoryPath } from '../../domain/git-url.js';
import type { FileOwner } from '../ports.js';

export async function localRepositoryEnv(home: string, repository: string, owner: FileOwner | undefined): Promise<Record<string, string>> {
  const path = localRepositoryPath(repository);
  if (path === null) return {};
  const dir = join(home, '.ansflow');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'local-repositories.gitconfig');
  // A value with a quote or backslash would need escaping; such a path is simply not trusted.
  const trusted = /^[^"\\\n]+$/.test(path) ? `[safe]\n\tdirectory = "${path}"\n\tdirectory = "${path.replace(/\/$/, '')}/.git"\n` : '';
  await writeFile(file, trusted, { mode: 0o600 });
  if (owner) {
    await chown(dir, owner.uid, owner.gid);
    await chown(file, owner.uid, owner.gid);
  }
  return { GIT_CONFIG_GLOBAL: file };
}
