/**
 * Extracting an archive into a workspace with GNU tar, in two moves:
 *
 *   1. `tar -xz` into a fresh, empty folder beside the workspace (on its filesystem), as the step
 *      user when there is one. An empty folder has no links of the workspace's to write through;
 *      GNU tar itself refuses members with `..`, strips leading `/`, and creates a link whose target
 *      is absolute or climbs (`..`) only after every other member, so nothing of the archive is
 *      written through one. Any error (exit status not 0) fails the whole extraction: nothing of
 *      it reaches the workspace.
 *   2. What it made is moved into the workspace by rename: a top entry the workspace lacks in one
 *      rename; a folder both have is entered (never a link: the workspace's links are replaced,
 *      never followed) and its entries moved the same way; anything else of the workspace's in the
 *      way is removed first, as an extraction over it would overwrite it.
 *
 * node-tar, which did this before, costs a round trip through the event loop for every file: 12x
 * GNU tar on a 50,000-file node_modules (bench/artifacts.ts). The steps that run in parallel with a
 * restore share the workspace, as they did then.
 */
import { spawn } from 'node:child_process';
import { chown, lstat, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { stagingFolder } from '../workspace.js';

export interface ExtractOwner {
  uid: number;
  gid: number;
}

/** Extracts a gzip'd tar into `workspace`; returns how many members it held. */
export async function extractInto(body: Readable, workspace: string, owner?: ExtractOwner): Promise<{ entries: number }> {
  const staging = await stagingFolder(workspace, 'extract');
  try {
    // Only root can become the step user; anyone else extracts as themselves (who the steps run as).
    const asOwner = owner && process.getuid?.() === 0 ? owner : undefined;
    if (asOwner) await chown(staging, asOwner.uid, asOwner.gid);
    const entries = await runTar(body, staging, asOwner);
    await moveInto(staging, workspace);
    return { entries };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function runTar(body: Readable, cwd: string, owner: ExtractOwner | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    // -v lists each member on stdout (counted); the owner and modes are never the archive's.
    const child = spawn('tar', ['-xzvf', '-', '--no-same-owner', '--no-same-permissions'], {
      cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(owner && { uid: owner.uid, gid: owner.gid }),
    });
    let entries = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) entries += 1;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4000) stderr += chunk.toString('utf8');
    });
    let failed: Error | null = null;
    const fail = (error: Error) => {
      failed ??= error;
      child.kill('SIGKILL');
    };
    body.on('error', fail);
    // tar stops reading when it gives up; the rest of the body has nowhere to go.
    child.stdin.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') fail(error);
    });
    body.pipe(child.stdin);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      if (code !== 0 || failed) body.unpipe(child.stdin).destroy();
      if (failed) reject(failed);
      else if (code === 0) resolve(entries);
      else {
        const why = stderr.trim().split('\n').slice(0, 5).join('; ') || `tar ended with ${signal ?? `exit status ${code}`}`;
        reject(new Error(`the archive could not be extracted: ${why}`));
      }
    });
  });
}

/** Moves every entry of `from` into `to` (see the top of the file); `to` is a real folder. */
async function moveInto(from: string, to: string): Promise<void> {
  for (const name of await readdir(from)) {
    const source = join(from, name);
    const target = join(to, name);
    const existing = await lstat(target).catch(() => null);
    if (existing?.isDirectory() && (await lstat(source)).isDirectory()) {
      await moveInto(source, target);
      continue;
    }
    if (existing) await rm(target, { recursive: true, force: true });
    await rename(source, target);
  }
}
