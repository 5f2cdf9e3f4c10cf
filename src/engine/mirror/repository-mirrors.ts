/**
 * One bare mirror per repository and credential under the data folder (`<data>/mirrors/<sha256 of
 * the repository and of the credential's secret>.git`), so a run neither clones the repository to
 * read its pipeline file nor to check it out: the mirror is created on first use and then only
 * fetches new objects.
 *
 * Why the credential is part of a mirror's identity: a mirror filled through one project's
 * credential holds a private repository's objects, and a fetch is skipped when the mirror already
 * has the commit asked for. Shared by URL alone, another project's pipeline naming the same
 * repository (and no credential, or another one) would read those objects without ever proving
 * access. Keyed by the secret too, each distinct access has its own mirror: a repository read
 * anonymously has one, as before.
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
 *   - the fetch on a run's path starts as few processes as it can (each start is on the trigger's
 *     path): git's automatic maintenance is off there and run separately, unawaited, at most once
 *     per mirror every MAINTENANCE_EVERY_MS (git's own gc lock keeps it from overlapping itself);
 *   - in the server, git and flock are started by the host's spawner (`commands`, run-command.ts),
 *     unsandboxed, never forked from the server itself, whose size makes each fork cost tens of ms;
 *   - reads (`readAt`, `readFile`: a pipeline file, its includes) go to a long-lived
 *     `git cat-file --batch` per mirror (`readers`, long-lived-command.ts), so a run of a commit the
 *     mirror holds starts no process at all; it needs no credential (it only reads the mirror), is
 *     ended after READER_IDLE_MS unused, at most MAX_READERS are kept, and a reader that fails is
 *     replaced by a one-shot `cat-file` for that read;
 *   - a credential is written into a private folder of its own for the one fetch and removed after.
 */
import { createHash } from 'node:crypto';
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
import { spawnCommand, type CommandRunner } from '../launch/run-command.js';
import { spawnLongLived, type LongLivedRunner } from '../launch/long-lived-command.js';
import { CatFileBatch, parseBatch, type BatchAnswer } from './cat-file-batch.js';

export interface RepositoryMirrorsOptions {
  /** `<data>/mirrors`. */
  root: string;
  policy: GitUrlPolicy;
  /** The git executable (a wrapper in tests). */
  git?: string;
  /**
   * How git (and flock) are started. The server passes its host spawner's (launcherCommands): a
   * fork of the large server costs tens of milliseconds per process, on the trigger's path.
   * Default: forked from this process (tests, small processes).
   */
  commands?: CommandRunner;
  /** How the long-lived readers (`git cat-file --batch`) are started; the server passes its host spawner's. */
  readers?: LongLivedRunner;
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

/** A fetch on a run's path starts no `git maintenance run --auto` of its own (maintainLater does). */
const NO_AUTO_MAINTENANCE = ['-c', 'maintenance.auto=false', '-c', 'gc.auto=0'];

/**
 * A `git://` repository (git daemon) is fetched with protocol version 0. With version 2 (git's
 * default) every connection to git daemon stalls about 40 ms: git writes its pkt-lines one small
 * write() at a time on a plain TCP socket, so Nagle's algorithm holds the next one until the peer
 * acknowledges, and the peer delays that acknowledgement (strace of `git ls-remote git://…`: the
 * answer's second half 42 ms after its first). Measured at load 6 on 2 CPUs against a local git
 * daemon: a fetch with nothing new 73 ms (v2) / 20 ms (v0), with one new commit 113 / 65 ms. What
 * v0 gives up is the server filtering refs by prefix (it advertises all of them and the client
 * keeps the refspecs' ones): the same result, more bytes for a repository with very many refs.
 * HTTP(S) (curl sets TCP_NODELAY) and ssh keep version 2.
 */
function protocolFor(url: string): string[] {
  return /^git:\/\//i.test(url) ? ['-c', 'protocol.version=0'] : [];
}

/** How often a mirror's maintenance is started at most. */
const MAINTENANCE_EVERY_MS = 10 * 60 * 1000;

/** A mirror's reader unused this long is ended (a process per mirror, not forever). */
const READER_IDLE_MS = 5 * 60 * 1000;
/** Readers kept at most; the one used least recently is ended first. */
const MAX_READERS = 16;

interface Reader {
  batch: Promise<CatFileBatch>;
  idle: NodeJS.Timeout;
}

export class RepositoryMirrors {
  private readonly maintainedAt = new Map<string, number>();
  /** Long-lived `cat-file --batch` per mirror path, least recently used first. */
  private readonly readers = new Map<string, Reader>();

  constructor(private readonly options: RepositoryMirrorsOptions) {}

  /** Where a repository's mirror lives: one per repository, whichever way its URL is spelled. */
  pathFor(url: string, credential?: ResolvedCredential): string {
    const plain = splitCredentials(url.trim()).url;
    const identity = repositoryKey(plain) ?? plain;
    const access = credential ? `\0${createHash('sha256').update(JSON.stringify(credential.secret)).digest('hex')}` : '';
    return join(
      this.options.root,
      `${createHash('sha256')
        .update(identity + access)
        .digest('hex')
        .slice(0, 32)}.git`,
    );
  }

  /** Makes the mirror if it is missing (an empty bare repository); returns its path. */
  async prepare(url: string, credential?: ResolvedCredential): Promise<string> {
    this.check(url);
    const path = this.pathFor(url, credential);
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
    const path = await this.prepare(input.url, input.credential);
    // A delivered commit the mirror already holds (another pipeline of the repository, a
    // redelivery) needs no round trip to the server: one local process instead of several.
    const exact = input.extra ?? [];
    if (input.onlyIfMissing && exact.length > 0 && (await this.hasAll(path, exact))) return path;
    await this.authenticated(input, path, async ({ fetchArgs, env, failed }) => {
      // Branches, tags and the extra refs (a pull request's head) in ONE fetch: one connection.
      const refs = extraRefs(exact);
      let result = await this.locked(path, fetchArgs([...REFSPECS, ...refs], true), env, input.signal);
      if (result.code !== 0 && refs.length > 0) {
        // Perhaps an extra ref the server lacks: the branches alone, then say which ref failed.
        result = await this.locked(path, fetchArgs(REFSPECS, true), env, input.signal);
        if (result.code === 0)
          for (const ref of refs) {
            const more = await this.locked(path, fetchArgs([ref], false), env, input.signal);
            if (more.code !== 0) throw failed(`${ref.slice(ref.indexOf(':') + 1)} from `, more.stderr, more.code);
          }
      }
      if (result.code !== 0) throw failed('', result.stderr, result.code);
      // An exact commit no branch or ref brought (a commit since force-pushed away): asked for by id.
      for (const commit of exact.filter((e) => !e.startsWith('refs/'))) {
        if (await this.has(path, commit)) continue;
        const more = await this.locked(path, fetchArgs([commit], false), env, input.signal);
        if (more.code !== 0) throw failed(`${commit} from `, more.stderr, more.code);
      }
    });
    this.maintainLater(path);
    return path;
  }

  /**
   * Fetches what is new (as `fetch`, always asking the server) and then reads the commit `rev`
   * names and the file there (as `readAt`), in ONE started process: `flock` holding the mirror's
   * lock runs a shell that runs `git fetch` and then `exec`s `git cat-file --batch` on the
   * answers' requests. A manual run (the branch head at trigger time) and a pull request (its
   * target branch must be current) start one process through `commands` instead of two; each start
   * is on the trigger's path.
   *
   * The shell's script holds only the platform's own words (the cat-file command line: git, its
   * hardening, the mirror's path, all shell-quoted); the fetch's command line, with the URL and
   * the credential's options, reaches it as arguments (`"$@"`), never as script text.
   *
   * When the one process cannot answer (an extra ref the server lacks, an exact commit no branch
   * brought: both rare) it falls back to `fetch` and `readAt`, which say precisely what failed.
   */
  async fetchAndRead(input: Omit<FetchInput, 'onlyIfMissing'>, rev: string, file: string): Promise<{ mirror: string; commit: string; content: string | null }> {
    const request = readRequest(rev, file);
    const path = await this.prepare(input.url, input.credential);
    const exact = input.extra ?? [];
    const refs = extraRefs(exact);
    const answered = await this.authenticated(input, path, async ({ fetchArgs, env, failed }) => {
      const readArgv = [this.options.git ?? 'git', ...hardenedGitArgs(this.options.policy.allowLocal), '--git-dir', path, 'cat-file', '--batch'];
      const script = `"$@" </dev/null || exit $?\nprintf '${FETCHED}\\n'\nexec ${readArgv.map(shellQuote).join(' ')}\n`;
      const r = await this.git(
        fetchArgs([...REFSPECS, ...refs], true),
        env,
        input.signal,
        ['flock', '--exclusive', `${path}.lock`, 'sh', '-c', script, 'sh'],
        request.input,
      );
      const marker = Buffer.from(`${FETCHED}\n`);
      if (r.raw.subarray(0, marker.length).equals(marker)) {
        if (r.code !== 0) throw new MirrorError(`git cat-file failed: ${r.stderr.trim()}`);
        try {
          return request.answer(r.raw.subarray(marker.length));
        } catch (error) {
          // An exact commit no branch brought: `fetch` asks for it by id.
          if (exact.some((e) => !e.startsWith('refs/'))) return null;
          throw error;
        }
      }
      // The fetch failed. With extra refs, `fetch` tries again without them to say which one;
      // without, its answer would be this one: said now, not fetched a second time.
      if (refs.length > 0) return null;
      throw failed('', r.stderr, r.code);
    });
    if (answered && exact.every((e) => e.startsWith('refs/') || e === answered.commit)) {
      this.maintainLater(path);
      return { mirror: path, ...answered };
    }
    await this.fetch(input);
    return { mirror: path, ...(await this.readAt(path, rev, file)) };
  }

  /**
   * Runs `work` with what a fetch of `input` into `path` needs: the fetch's arguments, its
   * environment (the credential's askpass script or key in a private folder, removed after) and
   * its error (git's words, secrets masked).
   */
  private async authenticated<T>(
    input: Omit<FetchInput, 'onlyIfMissing'>,
    path: string,
    work: (fetch: {
      fetchArgs: (refspecs: string[], prune: boolean) => string[];
      env: Record<string, string>;
      failed: (what: string, stderr: string, code: number | null) => MirrorError;
    }) => Promise<T>,
  ): Promise<T> {
    const split = splitCredentials(input.url.trim());
    const secrets = credentialSecrets(split);
    const needsHome = input.credential !== undefined || split.username !== undefined || split.password !== undefined;
    // A private folder only for a fetch that authenticates (the askpass script, the key): none otherwise.
    const home = needsHome ? await mkdtemp(join(this.options.root, '.fetch-')) : null;
    try {
      let env: Record<string, string> = home ? { ...(await askpassEnv(home, split, undefined)) } : {};
      let configArgs: string[] = [];
      if (input.credential && home) {
        const auth = await prepareCheckoutAuth({ credential: input.credential, repository: split.url, home, stepId: 0 });
        if ('problem' in auth) throw new MirrorError(auth.problem);
        env = { ...env, ...auth.env };
        configArgs = auth.configArgs;
        secrets.push(...credentialSecretValues(input.credential.secret));
      }
      const failed = (what: string, stderr: string, code: number | null) =>
        new MirrorError(`could not fetch ${what}${redactGitUrl(input.url)}: ${maskText(stderr.trim(), secrets) || `exit code ${code}`}`);
      const fetchArgs = (refspecs: string[], prune: boolean) => [
        ...configArgs,
        ...NO_AUTO_MAINTENANCE,
        ...protocolFor(split.url),
        '--git-dir',
        path,
        'fetch',
        '--quiet',
        ...(prune ? ['--prune'] : []),
        '--no-tags',
        '--',
        split.url,
        ...refspecs,
      ];
      return await work({ fetchArgs, env, failed });
    } finally {
      if (home) await rm(home, { recursive: true, force: true });
    }
  }

  /** Whether the mirror holds every one of these commits or refs, in one git process. */
  async hasAll(path: string, revs: readonly string[]): Promise<boolean> {
    if (revs.some((rev) => /[\n\r]/.test(rev))) return false;
    const r = await this.git(['--git-dir', path, 'cat-file', '--batch-check'], {}, undefined, [], revs.map((rev) => `${rev}^{commit}\n`).join(''));
    return (
      r.code === 0 &&
      r.stdout
        .split('\n')
        .filter(Boolean)
        .every((line) => / commit \d+$/.test(line))
    );
  }

  /**
   * git's automatic maintenance (`gc --auto`: packing loose objects), off the run's path: started
   * in the background after a fetch, at most once per mirror every MAINTENANCE_EVERY_MS.
   */
  private maintainLater(path: string): void {
    const now = Date.now();
    if ((this.maintainedAt.get(path) ?? 0) > now - MAINTENANCE_EVERY_MS) return;
    this.maintainedAt.set(path, now);
    void this.git(['--git-dir', path, 'maintenance', 'run', '--auto', '--quiet'], {}).catch(() => {});
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
    const request = readRequest(rev, file);
    let answers: Array<BatchAnswer | null> | null = null;
    try {
      answers = await (await this.reader(path)).ask(request.lines);
    } catch {
      // The reader could not start or died: this read goes to a process of its own, and the
      // next one starts a new reader.
      this.dropReader(path);
    }
    if (answers) return request.answerFrom(answers);
    const r = await this.git(['--git-dir', path, 'cat-file', '--batch'], {}, undefined, [], request.input);
    if (r.code !== 0) throw new MirrorError(`git cat-file failed: ${r.stderr.trim()}`);
    return request.answer(r.raw);
  }

  /** A file's text at a commit (or branch, tag, ref); MirrorError when it is not there. */
  async readFile(path: string, rev: string, file: string): Promise<string> {
    const { commit, content } = await this.readAt(path, rev, file);
    if (content === null) throw new MirrorError(`${file} does not exist at commit ${commit.slice(0, 12)}`);
    return content;
  }

  /** Ends every long-lived reader (the worker's stop; idle ones end by themselves). */
  close(): void {
    for (const path of [...this.readers.keys()]) this.dropReader(path);
  }

  /** The mirror's long-lived reader, started on first use. */
  private async reader(path: string): Promise<CatFileBatch> {
    let reader = this.readers.get(path);
    if (reader) {
      const batch = await reader.batch.catch(() => null);
      if (batch?.alive && this.readers.get(path) === reader) {
        this.readers.delete(path); // to the end: used most recently
        this.readers.set(path, reader);
        reader.idle.refresh();
        return batch;
      }
      if (this.readers.get(path) === reader) this.dropReader(path);
    }
    while (this.readers.size >= MAX_READERS) this.dropReader(this.readers.keys().next().value!);
    const allowLocal = this.options.policy.allowLocal;
    const start = this.options.readers ?? spawnLongLived;
    const batch = start({
      file: this.options.git ?? 'git',
      args: [...hardenedGitArgs(allowLocal), '--git-dir', path, 'cat-file', '--batch'],
      env: { ...baseEnv({ home: this.options.root }), ...hardenedGitEnv(allowLocal) },
    }).then((command) => new CatFileBatch(command));
    const idle = setTimeout(() => this.dropReader(path), READER_IDLE_MS);
    idle.unref();
    reader = { batch, idle };
    this.readers.set(path, reader);
    return batch;
  }

  private dropReader(path: string): void {
    const reader = this.readers.get(path);
    if (!reader) return;
    this.readers.delete(path);
    clearTimeout(reader.idle);
    void reader.batch.then((batch) => batch.close()).catch(() => undefined);
  }

  /**
   * Files that differ between two commits, in one git process (null when `base` is unknown here).
   * `mergeBase`: from where `head` left `base` (`base...head`: a pull request's own changes).
   */
  async changedFiles(path: string, base: string, head: string, options: { mergeBase?: boolean } = {}): Promise<string[] | null> {
    if (base.startsWith('-') || head.startsWith('-')) return null;
    const range = options.mergeBase ? [`${base}...${head}`] : [base, head];
    const r = await this.git(['--git-dir', path, 'diff', '--name-only', '-z', '--no-renames', ...range, '--'], {});
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

  private async git(
    args: string[],
    extraEnv: Record<string, string>,
    signal?: AbortSignal,
    prefix: string[] = [],
    input?: string,
  ): Promise<{ code: number | null; stdout: string; stderr: string; raw: Buffer }> {
    const allowLocal = this.options.policy.allowLocal;
    // The platform's own environment and the fetch's credentials: never a pipeline's variables.
    const env = { ...baseEnv({ home: this.options.root }), ...hardenedGitEnv(allowLocal), ...extraEnv };
    const argv = [...prefix, this.options.git ?? 'git', ...hardenedGitArgs(allowLocal), ...args];
    const run = this.options.commands ?? spawnCommand;
    const r = await run({ file: argv[0]!, args: argv.slice(1), env, ...(input !== undefined && { input }), ...(signal && { signal }) });
    return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr, raw: r.stdout };
  }
}

/** What the combined fetch-and-read prints between the fetch and cat-file's answers. */
const FETCHED = 'ansflow-mirror-fetched';

function extraRefs(extra: readonly string[]): string[] {
  return extra.filter((e) => e.startsWith('refs/')).map((e) => `+${e}:${e}`);
}

/** A word for sh, single-quoted. */
function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * `cat-file --batch`'s requests for the commit `rev` names and the file there (a branch name tried
 * as a branch, then as a tag), and how to read its answers.
 */
function readRequest(
  rev: string,
  file: string,
): {
  lines: string[];
  input: string;
  answerFrom: (answers: Array<BatchAnswer | null>) => { commit: string; content: string | null };
  answer: (raw: Buffer) => { commit: string; content: string | null };
} {
  if (/[\n\r]/.test(rev) || /[\n\r]/.test(file)) throw new MirrorError('a revision or path with a line break');
  const candidates = rev.startsWith('refs/') || /^[0-9a-f]{7,64}$/.test(rev) ? [rev] : [`refs/heads/${rev}`, `refs/tags/${rev}`];
  const lines = candidates.flatMap((c) => [`${c}^{commit}`, `${c}^{commit}:${file}`]);
  const answerFrom = (answers: Array<BatchAnswer | null>) => {
    for (let i = 0; i < candidates.length; i++) {
      const commit = answers[2 * i];
      if (!commit || commit.type !== 'commit') continue;
      const blob = answers[2 * i + 1];
      return { commit: commit.sha, content: blob && blob.type === 'blob' ? blob.data.toString('utf8') : null };
    }
    throw new MirrorError(`"${rev}" is not a branch, tag or commit of the repository`);
  };
  return { lines, input: lines.map((line) => `${line}\n`).join(''), answerFrom, answer: (raw) => answerFrom(parseBatch(raw)) };
}
