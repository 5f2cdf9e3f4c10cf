/**
 * Copies a folder that other processes are writing: files appear, grow and vanish (a finished
 * run's log, a retention sweep) while it is read. What vanished is skipped; what grew is copied as
 * far as it was written when read. Symbolic links are not followed nor copied (a step cannot
 * smuggle a link to /etc into a backup).
 */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const gone = (error: unknown) => ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');

/** Returns how many files were copied. */
export function copyTree(from: string, to: string): number {
  let entries;
  try {
    entries = readdirSync(from, { withFileTypes: true });
  } catch (error) {
    if (gone(error)) return 0;
    throw error;
  }
  mkdirSync(to, { recursive: true, mode: 0o700 });
  let copied = 0;
  for (const entry of entries) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) copied += copyTree(source, target);
    else if (entry.isFile()) {
      try {
        copyFileSync(source, target);
        copied++;
      } catch (error) {
        if (!gone(error)) throw error;
      }
    }
  }
  return copied;
}
