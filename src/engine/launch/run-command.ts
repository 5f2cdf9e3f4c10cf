/**
 * Runs one short command of the platform's own (not a step: the repository mirrors' git) to its end
 * and collects what it wrote, stdout apart from stderr.
 *
 * Two ways, one result:
 *   - `launcherCommands(launcher)`: started by a spawner (spawner-launcher.ts), never forked from
 *     this process. The server is large (hundreds of MB), and a fork copies its page tables: about
 *     25 ms per process on a quiet machine, with this process's event loop standing still meanwhile,
 *     against about 3 ms through the small spawner (docs/benchmarks.md). The launcher must be the
 *     host's, unsandboxed: these commands work in the data folder, which steps never see.
 *   - `spawnCommand`: child_process from this process, for small processes (tests, the CLI).
 *
 * Either way the command gets exactly `env` (nothing inherited), and an abort ends it (SIGTERM to
 * its process group, SIGKILL after KILL_AFTER_MS if it is still there) and resolves at once as
 * `{ code: null, stderr: 'interrupted' }`.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { ProcessLauncher } from './launcher.js';
import { signalGroup } from '../process-group.js';

export interface CommandRequest {
  file: string;
  args: readonly string[];
  /** The complete environment. */
  env: Record<string, string>;
  /** Given to the command's stdin, which is then closed; /dev/null without it. */
  input?: string;
  signal?: AbortSignal;
}

export interface CommandResult {
  /** null when a signal ended it, or it was interrupted. */
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export type CommandRunner = (request: CommandRequest) => Promise<CommandResult>;

const KILL_AFTER_MS = 2000;
const INTERRUPTED: CommandResult = { code: null, stdout: Buffer.alloc(0), stderr: 'interrupted' };

/** Commands started by `launcher`'s spawner (see the top). */
export function launcherCommands(launcher: ProcessLauncher): CommandRunner {
  return async (request) => {
    const { signal } = request;
    if (signal?.aborted) return INTERRUPTED;
    const launched = await launcher.launch({
      file: request.file,
      args: request.args,
      // The commands name every path they work on; `/` always exists.
      cwd: '/',
      env: request.env,
      separateStderr: true,
      ...(request.input !== undefined && { input: request.input }),
    });
    const done = Promise.all([collect(launched.output), collect(launched.stderr!), launched.exit]).then(([stdout, stderr, exit]): CommandResult => ({
      code: exit.code,
      stdout,
      stderr: stderr.toString('utf8'),
    }));
    if (!signal) return done;
    let onAbort!: () => void;
    const aborted = new Promise<CommandResult>((resolve) => {
      onAbort = () => {
        void launched.signalGroup('SIGTERM');
        setTimeout(() => void launched.groupAlive().then((alive) => alive && launched.signalGroup('SIGKILL')), KILL_AFTER_MS).unref();
        resolve(INTERRUPTED);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    // Aborted between the check above and now: the listener would never fire.
    if (signal.aborted) onAbort();
    done.catch(() => undefined);
    try {
      return await Promise.race([done, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  };
}

/** Commands forked from this process (small processes only: see the top). */
export const spawnCommand: CommandRunner = (request) =>
  new Promise((resolve, reject) => {
    const { signal } = request;
    if (signal?.aborted) {
      resolve(INTERRUPTED);
      return;
    }
    const child = spawn(request.file, request.args, {
      env: request.env,
      detached: true,
      stdio: [request.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let settled = false;
    const onAbort = () => {
      if (child.pid === undefined) return;
      signalGroup(child.pid, 'SIGTERM');
      const pid = child.pid;
      setTimeout(() => signalGroup(pid, 'SIGKILL'), KILL_AFTER_MS).unref();
      settled = true;
      resolve(INTERRUPTED);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(request.input);
    }
    const out = collect(child.stdout!);
    const err = collect(child.stderr!);
    child.once('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      if (!settled) reject(error);
      settled = true;
    });
    child.once('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (settled) return;
      settled = true;
      void Promise.all([out, err]).then(([stdout, stderr]) => resolve({ code, stdout, stderr: stderr.toString('utf8') }));
    });
  });

/** Everything a stream carries until it ends (or fails: what came until then). */
function collect(stream: Readable): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('error', () => resolve(Buffer.concat(chunks)));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
  });
}
