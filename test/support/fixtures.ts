/**
 * Locates the shared test fixtures. They live in `shared/fixtures` beside the repository (CI
 * clones the repository with `shared/` next to it), never inside it. A missing folder is a broken
 * checkout, so this throws loudly instead of letting tests skip silently.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES_ROOT = resolve(REPO_ROOT, '..', 'shared', 'fixtures');

export function fixturePath(...parts: string[]): string {
  if (!existsSync(FIXTURES_ROOT)) throw new Error(`Test fixtures not found at ${FIXTURES_ROOT}: clone the shared/ folder beside the repository`);
  const path = join(FIXTURES_ROOT, ...parts);
  if (!existsSync(path)) throw new Error(`Test fixture not found: ${path}`);
  return path;
}

/** The exact bytes of a fixture (signatures are computed over these). */
export function readFixture(...parts: string[]): Buffer {
  return readFileSync(fixturePath(...parts));
}

export function readJsonFixture<T = unknown>(...parts: string[]): T {
  return JSON.parse(readFixture(...parts).toString('utf8')) as T;
}
