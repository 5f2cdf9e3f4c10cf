/**
 * Cache keys and who may read which cache, as GitHub Actions' cache does it.
 *
 * A key is written with expressions: `deps-{{ branch }}-{{ hashFiles('package-lock.json') }}`.
 * What comes out is checked: letters, digits, `.`, `_` and `-` only, so a key can never be a path
 * (`/`, `..`) in any store. `{{ branch }}` is made safe the same way (`feature/x` → `feature-x`).
 *
 * Scopes keep pull requests from poisoning other branches: a run writes only into its own scope
 * (`pr-12`, `branch-main`); it reads its own scope first, then (a pull request) its target branch's,
 * then the default branch's.
 */
export const MAX_CACHE_KEY_LENGTH = 512;
const KEY = /^[A-Za-z0-9._-]+$/;
const EXPRESSION = /\{\{\s*(.*?)\s*\}\}/g;

/** Why a rendered key (or a restore-key prefix) is refused, or null when it is fine. */
export function cacheKeyProblem(key: string): string | null {
  if (key === '') return 'The cache key is empty.';
  if (key.length > MAX_CACHE_KEY_LENGTH) return `The cache key is longer than ${MAX_CACHE_KEY_LENGTH} characters.`;
  if (key.includes('..')) return `The cache key "${key}" contains "..".`;
  if (!KEY.test(key)) return `The cache key "${key}" may contain only letters, digits, ".", "_" and "-" (no "/").`;
  return null;
}

/** A value made safe to sit inside a key. */
export function keySafe(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/\.{2,}/g, '.');
}

export interface KeyContext {
  branch: string;
  /** SHA-256 (hex) over the files the globs select; the engine reads the workspace. */
  hashFiles(globs: string[]): Promise<string>;
}

export class CacheKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CacheKeyError';
  }
}

/** The expressions of a key template, checked without rendering (for validating a pipeline). */
export function cacheKeyTemplateProblem(template: string): string | null {
  for (const match of template.matchAll(EXPRESSION)) {
    const parsed = parseExpression(match[1]!);
    if (typeof parsed === 'string') return parsed;
  }
  const literal = template.replace(EXPRESSION, 'x');
  return literal.includes('{{') || literal.includes('}}') ? 'The cache key has an unclosed "{{ }}".' : cacheKeyProblem(literal);
}

export async function renderCacheKey(template: string, context: KeyContext): Promise<string> {
  const problem = cacheKeyTemplateProblem(template);
  if (problem) throw new CacheKeyError(problem);
  let out = '';
  let last = 0;
  for (const match of template.matchAll(EXPRESSION)) {
    out += template.slice(last, match.index);
    const parsed = parseExpression(match[1]!) as Exclude<ReturnType<typeof parseExpression>, string>;
    out += parsed.kind === 'branch' ? keySafe(context.branch) : await context.hashFiles(parsed.globs);
    last = match.index! + match[0].length;
  }
  out += template.slice(last);
  const rendered = cacheKeyProblem(out);
  if (rendered) throw new CacheKeyError(rendered);
  return out;
}

function parseExpression(text: string): { kind: 'branch' } | { kind: 'hashFiles'; globs: string[] } | string {
  if (text === 'branch') return { kind: 'branch' };
  const call = /^hashFiles\((.*)\)$/.exec(text);
  if (!call) return `Unknown expression "{{ ${text} }}" in the cache key (known: branch, hashFiles('glob')).`;
  const globs: string[] = [];
  const args = call[1]!.trim();
  const ARG = /\s*'([^']*)'\s*(,|$)/y;
  let at = 0;
  while (at < args.length) {
    ARG.lastIndex = at;
    const arg = ARG.exec(args);
    if (!arg) return `hashFiles takes quoted globs: hashFiles('package-lock.json', 'yarn.lock'); got "${text}".`;
    globs.push(arg[1]!);
    at = ARG.lastIndex;
  }
  if (globs.length === 0) return 'hashFiles needs at least one glob.';
  return { kind: 'hashFiles', globs };
}

export interface CacheScopeInput {
  branch: string;
  defaultBranch: string;
  pullRequest?: { number: number; targetBranch: string } | null;
}

/** Where a run writes its caches, and where it reads them, in order. */
export function cacheScopes(input: CacheScopeInput): { write: string; read: string[] } {
  const branchScope = (b: string) => `branch-${keySafe(b)}`;
  const write = input.pullRequest ? `pr-${input.pullRequest.number}` : branchScope(input.branch);
  const read = [write];
  if (input.pullRequest) read.push(branchScope(input.pullRequest.targetBranch));
  read.push(branchScope(input.defaultBranch));
  return { write, read: [...new Set(read)] };
}

export interface CacheEntry {
  scope: string;
  key: string;
  createdAt: string;
}

/**
 * The cache to restore: in each readable scope in turn, the exact key, else the newest entry whose
 * key starts with one of the restore keys (tried in the order given). Null on a miss.
 */
export function pickCache<E extends CacheEntry>(
  entries: readonly E[],
  want: { key: string; restoreKeys: readonly string[]; scopes: readonly string[] },
): { entry: E; exact: boolean } | null {
  for (const scope of want.scopes) {
    const inScope = entries.filter((e) => e.scope === scope);
    const exact = inScope.find((e) => e.key === want.key);
    if (exact) return { entry: exact, exact: true };
    for (const prefix of want.restoreKeys) {
      const newest = inScope.filter((e) => e.key.startsWith(prefix)).sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))[0];
      if (newest) return { entry: newest, exact: false };
    }
  }
  return null;
}
