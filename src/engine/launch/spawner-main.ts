/**
 * The step spawner: a small long-lived process that starts step processes for the server (see
 * launcher.ts for why, spawner-protocol.ts for how). It imports nothing but Node's own modules so
 * that it stays small, since what it costs to fork grows with its size.
 *
 * Its life is its parent's: it ignores the terminal's and the service manager's signals (the
 * server decides when steps stop) and exits when the IPC channel closes, which also happens when
 * the server is killed with SIGKILL. The steps it started are in their own process groups and
 * outlive it; the server kills them, or its next life does (ProcessRegistry).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { GroupMessage, LaunchMessage, SpawnerMessage, StartProcessMessage, ToSpawner } from './spawner-protocol.js';
import { groupIsAlive, signalGroup } from '../process-group.js';

const FIFO_BATCH = 32;

const fifoDir = process.argv[2];
if (!fifoDir || !process.send) {
  console.error('spawner-main: started by SpawnerLauncher (fork with an IPC channel), with its FIFO folder as the argument');
  process.exit(2);
}

let fifoSerial = 0;
let makingFifos = false;

function send(message: SpawnerMessage): void {
  // A send that fails means the server is gone; 'disconnect' follows and ends this process.
  if (process.connected) process.send!(message, undefined, {}, () => undefined);
}

function makeFifos(): void {
  if (makingFifos) return;
  makingFifos = true;
  const paths = Array.from({ length: FIFO_BATCH }, () => join(fifoDir!, String(++fifoSerial)));
  execFile('mkfifo', ['-m', '600', '--', ...paths], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }, (error, _stdout, stderr) => {
    makingFifos = false;
    if (error) send({ type: 'fifo-error', message: `mkfifo failed: ${stderr.trim() || error.message}` });
    else send({ type: 'fifos', paths });
  });
}

/**
 * Opens a FIFO's write end and unlinks it. O_RDWR never blocks on a FIFO (Linux). Holding it
 * (`keeper`), the O_WRONLY open returns at once too, even if the server's read end were already
 * gone; that write-only, blocking descriptor is what the child gets, so it sees an ordinary pipe
 * (EPIPE once nobody reads).
 */
function openWriteEnd(fifo: string): { keeper: number; writer: number } {
  let keeper: number | undefined;
  try {
    keeper = openSync(fifo, constants.O_RDWR | constants.O_NOFOLLOW);
    return { keeper, writer: openSync(fifo, constants.O_WRONLY | constants.O_NOFOLLOW) };
  } catch (error) {
    if (keeper !== undefined) closeSync(keeper);
    throw error;
  } finally {
    try {
      unlinkSync(fifo);
    } catch {
      // already gone: nothing to tidy
    }
  }
}

function launch(request: LaunchMessage): void {
  const { id } = request;
  const fail = (error: unknown) => send({ type: 'failed', id, message: error instanceof Error ? error.message : String(error) });
  const ends: Array<{ keeper: number; writer: number }> = [];
  const closeEnds = () => {
    for (const end of ends.splice(0)) {
      closeSync(end.writer);
      closeSync(end.keeper);
    }
  };
  try {
    for (const fifo of [request.fifo, ...(request.stderrFifo === undefined ? [] : [request.stderrFifo])]) ends.push(openWriteEnd(fifo));
  } catch (error) {
    closeEnds();
    // Used once, whichever failed: the other is not left in the folder.
    for (const fifo of [request.fifo, request.stderrFifo])
      try {
        if (fifo !== undefined) unlinkSync(fifo);
      } catch {
        // opened and unlinked already, or never there
      }
    fail(error);
    return;
  }
  const stdout = ends[0]!.writer;
  const stderr = ends[1]?.writer ?? stdout;

  let child: ChildProcess;
  try {
    child = spawn(request.file, request.args, {
      cwd: request.cwd,
      env: request.env,
      detached: true,
      stdio: [request.input === undefined ? 'ignore' : 'pipe', stdout, stderr],
    });
  } catch (error) {
    // Invalid arguments (e.g. a NUL byte) throw instead of emitting 'error'.
    fail(error);
    return;
  } finally {
    closeEnds();
  }
  if (child.pid === undefined) {
    // Node names the executable when it is the working directory that is missing.
    child.once('error', (error) => fail(existsSync(request.cwd) ? error : new Error(`working directory ${request.cwd} does not exist`)));
    return;
  }
  child.on('error', () => undefined);
  if (child.stdin) {
    // A child that exits without reading all of it: EPIPE, which is its business, not ours.
    child.stdin.on('error', () => undefined);
    child.stdin.end(request.input);
  }
  send({ type: 'started', id, pid: child.pid });
  const pgid = child.pid;
  // Whether the group is empty is asked here, where it costs a syscall, rather than by the
  // server afterwards, where from a sandbox it costs a round trip.
  child.once('exit', (code, signal) => send({ type: 'exited', id, code, signal, ...(!signalGroup(pgid, 0) && { groupGone: true }) }));
}

function startProcess(request: StartProcessMessage): void {
  const { id } = request;
  const fail = (error: unknown) => send({ type: 'failed', id, message: error instanceof Error ? error.message : String(error) });
  let child: ChildProcess;
  try {
    child = spawn(request.file, request.args, { env: request.env, stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
  } catch (error) {
    fail(error);
    return;
  }
  child.on('error', (error) => {
    if (child.pid === undefined) fail(error);
  });
  if (child.pid === undefined) return;
  child.once('exit', (code, signal) => send({ type: 'process-exited', id, code, signal }));
  const channel = child.stdio[3] as Socket;
  notReadHere(channel);
  // Handed over, the socket is closed here (keepOpen false): the channel is the server's alone.
  process.send!({ type: 'process-started', id, pid: child.pid } satisfies SpawnerMessage, channel, { keepOpen: false }, (error) => {
    if (error) fail(error);
  });
}

/**
 * Stops this process reading a channel it is about to hand over. Node starts reading a child's
 * stdio pipe as soon as it makes it, and keeps its copy open, still reading into nothing, until the
 * server has acknowledged the handle (handles go one at a time, so under load a channel waits here
 * for the ones before it): whatever the process wrote meanwhile was read here and lost. spawner.pl
 * announces its first pipes within milliseconds of its start, and a sandbox whose announcement was
 * lost never became ready (its run failed after 30 s). Not read here, it waits in the socket for
 * the server. What `pauseOnCreate` does in net.Socket (a stream's pause() keeps the handle
 * reading); done in the same tick as the spawn, before this process can read anything.
 */
function notReadHere(channel: Socket): void {
  // (Node's own handle; spawner-launcher.test.ts fails should a Node version lose readStop.)
  const handle = (channel as unknown as { _handle?: { reading?: boolean; readStop?: () => number } | null })._handle;
  if (typeof handle?.readStop === 'function') {
    handle.reading = false;
    handle.readStop();
  }
  channel.pause();
}

function group(request: GroupMessage): void {
  const ok = request.type === 'signal' ? signalGroup(request.pgid, request.signal ?? 0) : groupIsAlive(request.pgid);
  send({ type: 'reply', id: request.id, ok });
}

process.on('message', (message: ToSpawner) => {
  if (message.type === 'launch') launch(message);
  else if (message.type === 'more') makeFifos();
  else if (message.type === 'start-process') startProcess(message);
  else group(message);
});
process.on('disconnect', () => {
  try {
    rmSync(fifoDir, { recursive: true, force: true });
  } catch {
    // In a sandbox the folder is a mount point and stays; its unused FIFOs go with the run's folders.
  }
  process.exit(0);
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);
makeFifos();
