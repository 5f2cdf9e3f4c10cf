/**
 * `git_checkout`: a real clone with the git CLI, argv arrays only.
 *
 *   no commit:  git clone [--depth N] --branch <branch> -- <url> <dir>
 *   a commit:   git init -- <dir>; git remote add origin -- <url>;
 *               git fetch [--depth N] -- origin <sha>   (falls back to a full fetch when the
 *               server refuses to serve a SHA or the SHA is abbreviated);
 *               git checkout --detach <sha> --
 *   submodules: git submodule update --init --recursive
 *   then:       git rev-parse HEAD → printed and reported as the step's commit.
 *
 * Every call is hardened: only the allowed transports (GIT_ALLOW_PROTOCOL, plus
 * `-c protocol.ext.allow=never` and `protocol.file.allow=never` unless local repositories are
 * allowed), no HTTP redirects (a redirect could send the credentials to another host), no
 * prompts, no system or global config, ssh in batch mode, and none of the user's proxy, GIT_* or
 * SSH_* variables (platform-tool-env.ts). The URL and branch are re-checked here (defence in
 * depth); credentials in the URL go through GIT_ASKPASS only.
 *
 * With a credential (`credential:` on the step), git authenticates with it for this checkout and,
 * through the checkout's local config, for later steps of the run (git-checkout-auth.ts).
 */
import { relative } from 'node:path';
import type { StepContext, StepExecutor, StepResult } from '../ports.js';
import { runStepProcess, describeExit, type ProcessOptions } from '../process.js';
import { resolveInside } from '../workspace.js';
import { branchNameProblem, COMMIT_SHA_PATTERN, gitUrlProblem, redactGitUrl, repositoryKey } from '../../domain/git-url.js';
import { coerceError } from '../../domain/errors.js';
import { localRepositoryEnv } from './local-repository-env.js';
import { askpassEnv, credentialSecrets, splitCredentials } from './git-credentials.js';
import { prepareCheckoutAuth, type CheckoutAuth } from './git-checkout-auth.js';
import { platformToolEnv } from '../platform-tool-env.js';
import type { RepositoryMirrors } from '../mirror/repository-mirrors.js';

export interface GitCheckoutConfig {
  repository: string;
  branch?: string;
  commit?: string;
  depth?: number;
  submodules?: boolean;
  directory?: string;
}

export interface GitExecutorOptions extends ProcessOptions {
  allowLocalRepositories: boolean;
  /** Let repository URLs name cloud metadata addresses (ANSFLOW_ALLOW_METADATA_ADDRESSES). */
  allowMetadataAddresses?: boolean;
  /** The git executable (a wrapper in tests). */
  git?: string;
  /** Repository mirrors: when set, the platform fetches into the mirror and the checkout copies from it. */
  mirrors?: RepositoryMirrors | undefined;
}

const DEFAULT_DEPTH = 1;

export class GitCheckoutExecutor implements StepExecutor {
  readonly type = 'git_checkout';

  constructor(private readonly options: GitExecutorOptions) {}

  async execute(raw: Record<string, unknown>, ctx: StepContext): Promise<StepResult> {
    const config = raw as Partial<GitCheckoutConfig>;
    const allowLocal = this.options.allowLocalRepositories;
    const repository = config.repository;
    if (typeof repository !== 'string') return failed('config.repository must be a string');
    const urlProblem = gitUrlProblem(repository, { allowLocal, allowMetadataAddresses: this.options.allowMetadataAddresses ?? false });
    if (urlProblem) return failed(`repository refused: ${urlProblem}`);

    const target = checkoutTarget(config, ctx);
    if ('problem' in target) return failed(target.problem);
    const { branch, commit } = target;
    const depth = Number.isInteger(config.depth) && (config.depth as number) >= 0 ? (config.depth as number) : DEFAULT_DEPTH;

    let dir = ctx.workspace;
    if (typeof config.directory === 'string' && config.directory !== '') {
      try {
        dir = await resolveInside(ctx.workspace, config.directory);
      } catch (thrown) {
        return failed(`directory refused: ${coerceError(thrown).message}`);
      }
    }

    const split = splitCredentials(repository);
    for (const secret of credentialSecrets(split)) ctx.addSecret(secret);
    const home = ctx.env.HOME ?? ctx.workspace;
    let auth: CheckoutAuth | undefined;
    if (ctx.credential) {
      const prepared = await prepareCheckoutAuth({ credential: ctx.credential, repository: split.url, home, stepId: ctx.stepId, owner: ctx.fileOwner });
      if ('problem' in prepared) return failed(prepared.problem);
      auth = prepared;
    }
    const env = {
      ...platformToolEnv(ctx.env),
      ...hardenedGitEnv(allowLocal),
      ...(allowLocal ? await localRepositoryEnv(home, repository, ctx.fileOwner) : {}),
      ...(await askpassEnv(home, split, ctx.fileOwner)),
      ...auth?.env,
    };
    const shownDir = relative(ctx.workspace, dir) || '.';
    const shownUrl = redactGitUrl(repository);
    const git = new GitRunner(this.options, ctx, env, allowLocal, auth?.configArgs ?? []);
    const why = (r: GitCallResult) => {
      const reason = auth?.explain(r.output);
      return reason ? `${reason}; ${r.how}` : r.how;
    };

    ctx.output(
      `Checking out ${shownUrl} (${commit ? `commit ${commit}` : `branch ${branch}`}) into ${shownDir}\n` +
        `(git hardened: allowed transports ${env.GIT_ALLOW_PROTOCOL}, no HTTP redirects, no prompts, no system or global config` +
        `${ctx.credential ? `; credential "${ctx.credential.name}"` : ''})\n`,
    );

    const mirrored = await this.fromMirror({ git, ctx, repository, commit, branch, depth, dir, shownDir, auth, env, home });
    if (mirrored !== null && 'failed' in mirrored) return mirrored.failed;
    if (mirrored !== null) {
      // Checked out from the mirror; submodules and the result below as for a clone.
    } else if (commit === null) {
      const clone = await git.run(['clone', ...(depth > 0 ? ['--depth', String(depth)] : []), '--branch', branch, '--', split.url, dir], {
        cwd: ctx.workspace,
        show: ['clone', ...(depth > 0 ? ['--depth', String(depth)] : []), '--branch', branch, '--', shownUrl, shownDir],
      });
      if (!clone.ok) return failed(`git clone failed (${why(clone)})`, clone.exitCode);
      if (auth && !(await persistAuth(git, dir, auth))) return failed("the credential could not be kept in the checkout's config");
    } else {
      const steps: Array<{ args: string[]; show?: string[]; cwd?: string }> = [
        { args: ['init', '-q', '--', dir], show: ['init', '-q', '--', shownDir], cwd: ctx.workspace },
        { args: ['remote', 'add', 'origin', '--', split.url], show: ['remote', 'add', 'origin', '--', shownUrl] },
      ];
      for (const step of steps) {
        const r = await git.run(step.args, { cwd: step.cwd ?? dir, ...(step.show && { show: step.show }) });
        if (!r.ok) return failed(`git ${step.args[0]} failed (${r.how})`, r.exitCode);
      }
      if (auth && !(await persistAuth(git, dir, auth))) return failed("the credential could not be kept in the checkout's config");
      // Servers serve an exact SHA only when it is complete (and, on old protocols, advertised).
      let fetched = false;
      if (commit.length === 40 || commit.length === 64) {
        const r = await git.run(['fetch', '--no-tags', ...(depth > 0 ? ['--depth', String(depth)] : []), '--', 'origin', commit], { cwd: dir });
        fetched = r.ok;
        if (!r.ok && ctx.signal.aborted) return failed('git fetch interrupted', r.exitCode);
        // An authentication failure will not go away with a full fetch.
        if (!r.ok && auth?.explain(r.output)) return failed(`git fetch failed (${why(r)})`, r.exitCode);
        if (!r.ok) ctx.output('The server did not serve the commit directly; fetching the full history instead.\n');
      }
      if (!fetched) {
        const r = await git.run(['fetch', '--tags', '--', 'origin'], { cwd: dir });
        if (!r.ok) return failed(`git fetch failed (${why(r)})`, r.exitCode);
      }
      const checkout = await git.run(['checkout', '-q', '--detach', commit, '--'], { cwd: dir });
      if (!checkout.ok) return failed(`commit ${commit} could not be checked out (${checkout.how})`, checkout.exitCode);
    }

    if (config.submodules === true) {
      const r = await git.run(['submodule', 'update', '--init', '--recursive'], { cwd: dir });
      if (!r.ok) return failed(`git submodule update failed (${why(r)})`, r.exitCode);
    }

    const head = await git.run(['rev-parse', 'HEAD'], { cwd: dir, capture: true });
    if (!head.ok) return failed(`git rev-parse failed (${head.how})`, head.exitCode);
    const sha = head.stdout.trim();
    ctx.output(`HEAD is now at ${sha}\n`);
    return { status: 'success', exitCode: 0, commit: sha };
  }

  /**
   * The checkout from the repository's mirror: the platform fetches what is new into the mirror
   * (outside the sandbox, with the step's credential), then the sandboxed git copies the one
   * commit it needs from the mirror (bound read-only into the sandbox) and sets `origin` to the
   * repository, so later steps fetch and push as after a clone. Null: no mirror here, or it could
   * not be updated (said in the log): the caller clones directly.
   */
  private async fromMirror(input: {
    git: GitRunner;
    ctx: StepContext;
    repository: string;
    commit: string | null;
    branch: string;
    depth: number;
    dir: string;
    shownDir: string;
    auth: CheckoutAuth | undefined;
    env: Record<string, string>;
    home: string;
  }): Promise<null | { done: true } | { failed: StepResult }> {
    const mirrors = this.options.mirrors;
    const { git, ctx, commit, branch, dir } = input;
    if (!mirrors) return null;
    let mirror: string;
    let sha: string;
    try {
      const exact = commit !== null && (commit.length === 40 || commit.length === 64) ? [commit] : [];
      mirror = await mirrors.fetch({ url: input.repository, credential: ctx.credential, extra: exact, onlyIfMissing: exact.length > 0, signal: ctx.signal });
      sha = await mirrors.resolve(mirror, commit ?? branch);
    } catch (thrown) {
      if (ctx.signal.aborted) return { failed: failed('interrupted') };
      ctx.output(`The repository's mirror could not be used (${coerceError(thrown).message}); cloning directly.\n`);
      return null;
    }
    ctx.output(`Mirror updated; copying commit ${sha} from it\n`);
    const fromMirrorEnv = {
      ...input.env,
      ...(await localRepositoryEnv(input.home, mirror, ctx.fileOwner)),
      GIT_ALLOW_PROTOCOL: `${input.env.GIT_ALLOW_PROTOCOL}:file`,
    };
    const calls: Array<{ args: string[]; show?: string[]; cwd?: string; env?: Record<string, string> }> = [
      { args: ['init', '-q', '--', dir], show: ['init', '-q', '--', input.shownDir], cwd: ctx.workspace },
      {
        args: ['remote', 'add', 'origin', '--', splitCredentials(input.repository).url],
        show: ['remote', 'add', 'origin', '--', redactGitUrl(input.repository)],
      },
      {
        args: ['-c', 'protocol.file.allow=always', 'fetch', '-q', '--no-tags', ...(input.depth > 0 ? ['--depth', String(input.depth)] : []), '--', mirror, sha],
        show: ['fetch', '--no-tags', ...(input.depth > 0 ? ['--depth', String(input.depth)] : []), '--', '<mirror>', sha],
        env: fromMirrorEnv,
      },
      ...(commit === null
        ? [{ args: ['update-ref', `refs/remotes/origin/${branch}`, sha] }, { args: ['checkout', '-q', '-B', branch, '--track', `origin/${branch}`] }]
        : [{ args: ['checkout', '-q', '--detach', sha, '--'] }]),
    ];
    for (const call of calls) {
      const r = await git.run(call.args, { cwd: call.cwd ?? dir, ...(call.show && { show: call.show }), ...(call.env && { env: call.env }) });
      if (!r.ok) return { failed: failed(`git ${call.args.find((a) => !a.startsWith('-') && !a.includes('='))} failed (${r.how})`, r.exitCode) };
    }
    if (input.auth && !(await persistAuth(git, dir, input.auth))) return { failed: failed("the credential could not be kept in the checkout's config") };
    return { done: true };
  }
}

/** Which branch and commit this step checks out (the run's apply to the pipeline's repository). */
function checkoutTarget(config: Partial<GitCheckoutConfig>, ctx: StepContext): { branch: string; commit: string | null } | { problem: string } {
  const { spec } = ctx;
  const runRepo = spec.repositoryUrl;
  // Local URLs have no host, so repositoryKey is null for them: compare those verbatim.
  const identity = (url: string) => repositoryKey(url) ?? url;
  const sameRepository = runRepo === undefined || runRepo === null ? runRepo === undefined : identity(runRepo) === identity(String(config.repository));
  const branch = (sameRepository && spec.branch ? spec.branch : config.branch) ?? 'main';
  const branchProblem = branchNameProblem(branch);
  if (branchProblem) return { problem: `branch refused: ${branchProblem}` };
  const rawCommit = config.commit ?? (sameRepository ? spec.commit : null) ?? null;
  if (rawCommit === null || rawCommit === '') return { branch, commit: null };
  const commit = rawCommit.toLowerCase();
  if (!COMMIT_SHA_PATTERN.test(commit)) return { problem: 'commit refused: must be 7 to 64 hexadecimal characters' };
  return { branch, commit };
}

/**
 * Options for every git call: no command-running or (unless allowed) local transports, and no
 * HTTP redirects at all (git's default follows them on the first request, to any host).
 * Given as `-c`, git hands them on to the git processes it starts itself (submodules).
 */
export function hardenedGitArgs(allowLocal: boolean): string[] {
  return ['-c', 'protocol.ext.allow=never', ...(allowLocal ? [] : ['-c', 'protocol.file.allow=never']), '-c', 'http.followRedirects=false'];
}

/** Writes the credential's helper or ssh command into the checkout's local config (paths only, no secret). */
async function persistAuth(git: GitRunner, dir: string, auth: CheckoutAuth): Promise<boolean> {
  for (const { key, values } of auth.persist) {
    for (const [i, value] of values.entries()) {
      const r = await git.run(['config', '--local', i === 0 ? '--replace-all' : '--add', key, value], { cwd: dir, capture: true });
      if (!r.ok) return false;
    }
  }
  return true;
}

/** Environment for every git call: no prompts, no config but ours, only allowed transports. */
export function hardenedGitEnv(allowLocal: boolean): Record<string, string> {
  return {
    GIT_TERMINAL_PROMPT: '0',
    GIT_PROTOCOL_FROM_USER: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ALLOW_PROTOCOL: allowLocal ? 'https:http:ssh:git:file' : 'https:http:ssh:git',
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
    GCM_INTERACTIVE: 'never',
  };
}

interface GitCallResult {
  ok: boolean;
  exitCode: number | null;
  how: string;
  stdout: string;
  /** The end of what the call printed (to explain an authentication failure). */
  output: string;
}

/** How much of a git call's output is kept to explain its failure. */
const OUTPUT_TAIL_BYTES = 8192;

class GitRunner {
  constructor(
    private readonly options: GitExecutorOptions,
    private readonly ctx: StepContext,
    private readonly env: Record<string, string>,
    private readonly allowLocal: boolean,
    /** `-c key=value` for every call (a credential helper); git hands them on to submodule fetches. */
    private readonly configArgs: readonly string[] = [],
  ) {}

  async run(args: string[], opts: { cwd: string; show?: string[]; capture?: boolean; env?: Record<string, string> }): Promise<GitCallResult> {
    const hardening = hardenedGitArgs(this.allowLocal);
    if (!opts.capture) this.ctx.output(`$ git ${(opts.show ?? args).join(' ')}\n`);
    const captured: Buffer[] = [];
    let tail = Buffer.alloc(0);
    const result = await runStepProcess(this.options, this.ctx, {
      argv: [this.options.git ?? 'git', ...hardening, ...this.configArgs, ...args],
      cwd: opts.cwd,
      env: opts.env ?? this.env,
      onOutput: (chunk: Buffer) => {
        if (opts.capture) captured.push(chunk);
        else this.ctx.output(chunk);
        tail = Buffer.concat([tail, chunk]);
        if (tail.length > OUTPUT_TAIL_BYTES) tail = tail.subarray(tail.length - OUTPUT_TAIL_BYTES);
      },
    });
    // git itself missing is the platform's fault.
    if (result.failure) throw new Error(`git: ${result.failure.message}`);
    const stdout = Buffer.concat(captured).toString('utf8');
    if (opts.capture && result.exitCode !== 0) this.ctx.output(stdout);
    return { ok: result.exitCode === 0, exitCode: result.exitCode, how: describeExit(result), stdout, output: tail.toString('utf8') };
  }
}

function failed(message: string, exitCode: number | null = null): StepResult {
  return { status: 'failed', exitCode, message };
}
