/**
 * A long-lived command of the platform's own (a repository mirror's `git cat-file --batch`) that
 * answers requests written to its stdin on its stdout for as long as it is kept: one process start
 * for many reads instead of one per read (each start is on a run's path to its first step).
 *
 * Two ways, as for short commands (run-command.ts):
 *   - `launcherLongLived(host)`: started by the host's spawner (`start-process` with a raw channel,
 *     spawner-protocol.ts), never forked from this large process. The spawner hands over one socket
 *     (the child's descriptor 3); a constant `sh` script makes it the command's stdin and stdout,
 *     and stderr /dev/null. The command line reaches the script as arguments (`"$@"`), never as
 *     script text.
 *   - `spawnLongLived`: child_process from this process (tests, small processes).
 *
 * Either way the command gets exactly `env`, does not keep this process alive, and ends when its
 * input closes (`end()`), also when this process dies (its end of the pipe or socket closes).
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Socket } from 'node:net';
import type { HandedOverProcess } from './handed-over-process.js';
import type { ProcessStartRequest } from './spawner-launcher.js';

export interface LongLivedRequest {
  file: string;
  args: readonly string[];
  /** The complete environment. */
  env: Record<string, string>;
}

export interface LongLivedCommand {
  input: Writable;
  output: Readable;
  /** Resolves once the command has ended (or its output has). */
  exited: Promise<void>;
  /** Closes its input: the command ends. */
  end(): void;
}

export type LongLivedRunner = (request: LongLivedRequest) => Promise<LongLivedCommand>;

/** The constant script: descriptor 3 (the handed-over socket) as stdin and stdout, then exec. */
const ON_CHANNEL = 'exec "$@" <&3 >&3 2>/dev/null 3>&-';

/** Long-lived commands started by the host's spawner (see the top). */
export function launcherLongLived(host: { startProcess(request: ProcessStartRequest): HandedOverProcess }): LongLivedRunner {
  return (request) =>
    new Promise((resolve, reject) => {
      const started = host.startProcess({ file: 'sh', args: ['-c', ON_CHANNEL, 'sh', request.file, ...request.args], env: request.env, raw: true });
      // Kept for as long as it is useful, it must not keep this process alive.
      started.unref();
      const exited = new Promise<void>((done) => started.once('exit', () => done()));
      started.once('error', reject);
      started.once('channel', (socket: Socket) => {
        socket.unref();
        resolve({
          input: socket,
          output: socket,
          exited: Promise.race([exited, new Promise<void>((done) => socket.once('close', () => done()))]),
          end: () => socket.end(),
        });
      });
    });
}

/** Long-lived commands forked from this process (small processes only: see run-command.ts). */
export const spawnLongLived: LongLivedRunner = (request) =>
  new Promise((resolve, reject) => {
    const child = spawn(request.file, request.args, { env: request.env, stdio: ['pipe', 'pipe', 'ignore'] });
    child.once('error', reject);
    child.once('spawn', () => {
      child.unref();
      (child.stdin as unknown as Socket).unref();
      (child.stdout as unknown as Socket).unref();
      child.stdin!.on('error', () => undefined);
      resolve({
        input: child.stdin!,
        output: child.stdout!,
        exited: new Promise((done) => child.once('close', () => done())),
        end: () => child.stdin!.end(),
      });
    });
  });
