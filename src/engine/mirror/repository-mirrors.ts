/**
 * One bare mirror per repository under the data folder (`<data>/mirrors/<sha256 of the
 * repository>.git`), so a run neither clones the repository to read its pipeline file nor to check
 * it out: the mirror is created on first use and then only fetches new objects.
 *
 * The platform uses a mirror OUTSIDE the sandbox (steps never see the data folder): it fetches into
 * it, reads files (`git cat-file`), resolves branches and lists changed files. A run's git_checkout
 * sees its repository's mirror bound read-only into its sandbox and fetches the commit from there.
 *
 * Safety:
 *   - every call is git hardened as git_checkout's are (no ext transport, no redirects, no prompts,
 *     no system or global config, the platform's own environment only); the URL is checked again;
 *   - writers (init, fetch) hold an exclusive flock(1) on `<mirror>.lock`, so runs and workers on
 *     one machine never fetch into the same mirror at once; the kernel drops the lock when the
 *     process dies. Readers need no lock: git writes packs and refs atomically (rename);
 *   - a credential is written into a private folder of its own for the one fetch and removed after.
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gitUrlProblem, redactGitUrl, repositoryKey, type GitUrlPolicy } from '../../domain/git-url.js';
import { credentialSecretValues, type ResolvedCredential } from '../../domain/credentials.js';
import { hardenedGitArgs, hardenedGitEnv } from '../executors/git-checkout.js';
import { askpassEnv, credentialSecrets, splitCredentials } from '../executors/git-credentials.js';
import { prepareCheckoutAuth } from '../executors/git-checkout-auth.js';
import { baseEnv } from '../env.js';
import { maskText } from '../masking.js';

export interface RepositoryMirrorsOptions {
  /** `<data>/mirrors`. */
  root: string;
  policy: GitUrlPolicy;
  /** The git executable (a wrapper in tests). */
  git?: string;
}

export interface FetchInput {
  /** The repository's URL as the pipeline names it. */
  url: string;
  credential?: ResolvedCredential | undefined;
  /** Refs to fetch beyond branches and tags (`refs/pull/7/head`), or exact commits. */
  extra?: readonly string[];
  /** Skip the fetch when the mirror already holds every `extra` (exact commits the run needs). */
  onlyIfMissing?: boolean;
  signal?: AbortSignal;
}

export class MirrorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MirrorError';
  }
}

/** Branches and tags, force-updated and pruned: the mirror follows the repository. */
const REFSPECS = ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'];

export class RepositoryMirrors {
  constructor(private readonly options: RepositoryMirrorsOptions) {}

  /** Where a repository's mirror lives: one per repository, whichever way its URL is spelled. */
  pathFor(url: string): string {
    const plain = splitCredentials(url.trim()).url;
    const identity = repositoryKey(plain) ?? plain;
    return join(this.options.root, `${createHash('sha256').update(identity).digest('hex').slice(0, 32)}.git`);
  }

  /** Makes the mirror if it is missing (an empty bare repository); returns its path. */
  async prepare(url: string): Promise<string> {
    this.check(url);
    const path = this.pathFor(url);
    if (existsSync(join(path, 'HEAD'))) return path;
    await mkdir(this.options.root, { recursive: true, mode: 0o755 });
    // `git init` on an existing repository changes nothing, so two first uses may race safely.
    await this.locked(path, ['init', '--bare', '-q', '--', path], {});
    return path;
  }

  /**
   * Fetches what is new into the mirror (only missing objects travel). Returns the mirror's path.
   * Throws MirrorError with git's own words (credentials masked) when the repository cannot be read.
   */
  async fetch(input: FetchInput): Promise<string> {
    const path = await this.prepare(input.url);
    // A delivered commit the mirror already holds (another pipeline of the repository, a
    // redelivery) needs no round trip to the server: one local process instead of several.
    const exact = input.extra ?? [];
    if (input.onlyIfMissing && exact.length > 0 && (await Promise.all(exact.map((rev) => this.has(path, rev)))).every(Boolean)) return path;
    const split = splitCredentials(input.url.trim());
    const secrets = credentialSecrets(split);
    const home = await mkdtemp(join(this.options.root, '.fetch-'));
    try {
      let env: Record<string, string> = { ...(await askpassEnv(home, split, undefined)) };
      let configArgs: string[] = [];
      if (input.credential) {
        const auth = await prepareCheckoutAuth({ credential: input.credential, repository: split.url, home, stepId: 0 });
        if ('problem' in auth) throw new MirrorError(auth.problem);
        env = { ...env, ...auth.env };
        configArgs = auth.configArgs;
        secrets.push(...credentialSecretValues(input.credential.secret));
      }
      const args = [...configArgs, '--git-dir', path, 'fetch', '--quiet', '--prune', '--no-tags', '--', split.url, ...REFSPECS];
      const result = await this.locked(path, args, env, input.signal);
      if (result.code !== 0)
        throw new MirrorError(`could not fetch ${redactGitUrl(input.url)}: ${maskText(result.stderr.trim(), secrets) || `exit code ${result.code}`}`);
      for (const extra of input.extra ?? []) {
        if (await this.has(path, extra)) continue;
        const refspec = extra.startsWith('refs/') ? `+${extra}:${extra}` : extra;
        const more = await this.locked(path, [...configArgs, '--git-dir', path, 'fetch', '--quiet', '--no-tags', '--', split.url, refspec], env, input.signal);
        if (more.code !== 0) throw new MirrorError(`could not fetch ${extra} from ${redactGitUrl(input.url)}: ${maskText(more.stderr.trim(), secrets)}`);
      }
      return path;
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }

  /** Whether the mirror holds this commit (or ref). */
  async has(path: string, rev: string): Promise<boolean> {
    return (await this.git(['--git-dir', path, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], {})).code === 0;
  }

  /** The commit a branch, tag, ref or (abbreviated) sha names in the mirror. */
  async resolve(path: string, rev: string): Promise<string> {
    for (const candidate of rev.startsWith('refs/') || /^[0-9a-f]{7,64}$/.test(rev) ? [rev] : [`refs/heads/${rev}`, `refs/tags/${rev}`]) {
      const r = await this.git(['--git-dir', path, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${candidate}^{commit}`], {});
      if (r.code === 0) return r.stdout.trim();
    }
    throw new MirrorError(`"${rev}" is not a branch, tag or commit of the repository`);
  }

  /**
   * The commit `rev` names and the file's text there, in ONE git process (`cat-file --batch`):
   * on the trigger's path every process start counts. `content` is null when the file is not there.
   */
  async readAt(path: string, rev: string, file: string): Promise<{ commit: string; content: string | null }> {
    if (/[\n\r]/.test(rev) || /[\n\r]/.test(file)) throw new MirrorError('a revision or path with a line break');
    const candidates = rev.startsWith('refs/') || /^[0-9a-f]{7,64}$/.test(rev) ? [rev] : [`refs/heads/${rev}`, `refs/tags/${rev}`];
    const input = candidates.map((c) => `${c}^{commit}\n${c}^{commit}:${file}\n`).join('');
    const r = await this.git(['--git-dir', path, 'cat-file', '--batch'], {}, undefined, [], input);
    if (r.code !== 0) throw new MirrorError(`git cat-file failed: ${r.stderr.trim()}`);
    const answers = parseBatch(r.raw);
    for (let i = 0; i < candidates.length; i++) {
      const commit = answers[2 * i];
      if (!commit || commit.type !== 'commit') continue;
      const blob = answers[2 * i + 1];
      return { commit: commit.sha, content: blob && blob.type === 'blob' ? blob.data.toString('utf8') : null };
    }
    throw new MirrorError(`"${rev}" is not a branch, tag or commit of the repository`);
  }

  /** A file's text at a commit; MirrorError when it is not there. */
  async readFile(path: string, commit: string, file: string): Promise<string> {
    const r = await this.git(['--git-dir', path, 'cat-file', 'blob', `${commit}:${file}`], {});
    if (r.code !== 0) throw new MirrorError(`${file} does not exist at commit ${commit.slice(0, 12)}`);
    return r.stdout;
  }

  /** Files that differ between two commits (null when `base` is unknown here). */
  async changedFiles(path: string, base: string, head: string): Promise<string[] | null> {
    if (!(await this.has(path, base))) return null;
    const r = await this.git(['--git-dir', path, 'diff', '--name-only', '-z', '--no-renames', base, head, '--'], {});
    if (r.code !== 0) return null;
    return r.stdout.split('\0').filter(Boolean);
  }

  /** The best common ancestor of two commits, or null. */
  async mergeBase(path: string, a: string, b: string): Promise<string | null> {
    const r = await this.git(['--git-dir', path, 'merge-base', a, b], {});
    return r.code === 0 ? r.stdout.trim() : null;
  }

  private check(url: string): void {
    const problem = gitUrlProblem(url, this.options.policy);
    if (problem) throw new MirrorError(`repository refused: ${problem}`);
  }

  private locked(path: string, args: string[], env: Record<string, string>, signal?: AbortSignal) {
    return this.git(args, env, signal, ['flock', '--exclusive', `${path}.lock`]);
  }

  private git(
    args: string[],
    extraEnv: Record<string, string>,
    signal?: AbortSignal,
    prefix: string[] = [],
    input?: string,
  ): Promise<{ code: number | null; stdout: string; stderr: string; raw: Buffer }> {
    const allowLocal = this.options.policy.allowLocal;
    const env = { ...baseEnv({ home: this.options.root }), ...hardenedGitEnv(allowLocal), ...extraEnv };
    const argv = [...prefix, this.options.git ?? 'git', ...hardenedGitArgs(allowLocal), ...args];
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], ...(signal && { signal }) });
      if (input !== undefined) child.stdin!.end(input);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout!.on('data', (c: Buffer) => out.push(c));
      child.stderr!.on('data', (c: Buffer) => err.push(c));
      child.on('error', (e) => (e.name === 'AbortError' ? resolve({ code: null, stdout: '', stderr: 'interrupted', raw: Buffer.alloc(0) }) : reject(e)));
      child.on('close', (code) => {
        const raw = Buffer.concat(out);
        resolve({ code, stdout: raw.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), raw });
      });
    });
  }
}

interface BatchAnswer {
  sha: string;
  type: string;
  data: Buffer;
}

/** `git cat-file --batch` output: `<sha> <type> <size>\n<data>\n` per object, `<rev> missing\n` otherwise. */
function parseBatch(raw: Buffer): Array<BatchAnswer | null> {
  const answers: Array<BatchAnswer | null> = [];
  let at = 0;
  while (at < raw.length) {
    const end = raw.indexOf(0x0a, at);
    if (end < 0) break;
    const header = raw.subarray(at, end).toString('utf8');
    at = end + 1;
    const found = /^([0-9a-f]{40,64}) (\S+) (\d+)$/.exec(header);
    if (!found) {
      answers.push(null);
      continue;
    }
    const size = Number(found[3]);
    answers.push({ sha: found[1]!, type: found[2]!, data: raw.subarray(at, at + size) });
    at += size + 1;
  }
  return answers;
}
