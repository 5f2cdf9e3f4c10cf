/**
 * Folders and files the platform writes into a run's HOME for a step: credentials, helper scripts.
 *
 * The HOME belongs to the steps, so an earlier (hostile) step may have left a symlink where the
 * platform is about to write, hoping it writes a key through it, or chowns something else to the
 * step's user. So: every folder below HOME is checked with lstat (a symlink or a file there is
 * refused), leaf folders are made fresh, and files are created with O_EXCL | O_NOFOLLOW, never
 * opened if something exists. Folders are 0700 and files 0600 (scripts 0700), owned by the step's
 * user when steps run as another user, so ssh and git accept them inside the sandbox.
 */
import { constants } from 'node:fs';
import { chown, lstat, mkdir, open, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { FileOwner } from '../ports.js';

/**
 * Makes `home/<parts...>` exist as real folders (0700), refusing symlinks and files on the way.
 * With `fresh`, the last folder is removed first (whatever an earlier step left there) and made anew.
 */
export async function privateFolder(home: string, parts: readonly string[], owner: FileOwner | undefined, opts: { fresh?: boolean } = {}): Promise<string> {
  let path = home;
  for (const [i, part] of parts.entries()) {
    if (part === '' || part === '.' || part === '..' || part.includes(sep)) throw new Error(`invalid folder name ${JSON.stringify(part)}`);
    path = join(path, part);
    if (opts.fresh && i === parts.length - 1) await rm(path, { recursive: true, force: true });
    await makeRealFolder(path, home);
    if (owner) await chown(path, owner.uid, owner.gid);
  }
  return path;
}

async function makeRealFolder(path: string, home: string): Promise<void> {
  try {
    await mkdir(path, { mode: 0o700 });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stats = await lstat(path);
  if (!stats.isDirectory() || stats.isSymbolicLink()) throw new Error(`$HOME/${relative(home, path)} is not a folder (refused: something replaced it)`);
}

/** Creates a new file (never through a symlink, never over an existing file) with this content. */
export async function writePrivateFile(path: string, content: string | Buffer, owner: FileOwner | undefined, mode = 0o600): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    await handle.writeFile(content);
    await handle.chmod(mode);
    if (owner) await handle.chown(owner.uid, owner.gid);
  } finally {
    await handle.close();
  }
}

/** Removes a folder written by privateFolder (a symlink in its place is removed, not followed). */
export async function removePrivateFolder(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}
