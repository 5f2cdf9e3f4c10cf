/**
 * A spawner this process did not fork itself: the host's spawner started it (`start-process`,
 * spawner-protocol.ts) and handed over the socket that is its IPC channel. This class speaks
 * Node's IPC framing on that socket (JSON, one message per line, as `serialization: 'json'` does)
 * and looks to `Spawner` like the ChildProcess of a fork(): messages, `exit` once the process has
 * exited, kill() by pid. The channel closing is not that: a sandbox's spawner exits (and its end of
 * the channel closes) before bubblewrap has ended what is left in the sandbox, so `exit` waits for
 * the host's spawner to report the exit of the process it started (`exited`); only if that spawner
 * is gone (and bubblewrap with it, --die-with-parent) does the channel's close stand for the exit.
 *
 * A raw one (`raw`) is not a spawner: its socket carries the process's own bytes (a long-lived
 * `git cat-file --batch` of a repository mirror), handed to whoever listens for 'channel', unread.
 *
 * Why: fork() copies the caller's page tables, tens of milliseconds for a server of 150 MB and
 * more on a busy machine, during which its event loop stands still; a run's sandbox is started
 * while runs are starting and running, so the small host spawner forks it instead.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { SpawnerMessage, ToSpawner } from './spawner-protocol.js';

/** What a Spawner needs of the process it talks to: a fork()ed ChildProcess, or a HandedOverProcess. */
export interface SpawnerProcess {
  readonly pid?: number | undefined;
  readonly connected: boolean;
  on(event: 'message', listener: (message: SpawnerMessage, handle?: unknown) => void): this;
  once(event: 'error', listener: (error: Error) => void): this;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  send(message: ToSpawner, callback: (error: Error | null) => void): boolean;
  disconnect(): void;
  kill(signal?: NodeJS.Signals): boolean;
  ref(): void;
  unref(): void;
}

/** Keeps this process alive while the exit of a referenced HandedOverProcess is awaited. */
export interface ExitReporter {
  hold(): void;
  release(): void;
}

export class HandedOverProcess extends EventEmitter implements SpawnerProcess {
  pid: number | undefined;
  connected = true;
  private socket: Socket | null = null;
  private received = '';
  private referenced = true;
  private killWith: NodeJS.Signals | null = null;
  private ended = false;
  private channelClosed = false;
  /** Whether the host's spawner, which reports the exit, is gone. */
  private reporterGone = false;
  private readonly unsent: Array<{ line: string; callback: (error: Error | null) => void }> = [];
  /** Whether it holds the reporter (the host spawner's channel), which brings the exit. */
  private holding = false;

  constructor(
    private readonly reporter: ExitReporter,
    private readonly options: { raw?: boolean } = {},
  ) {
    super();
    this.holdReporter();
  }

  private holdReporter(): void {
    const wanted = this.referenced && !this.ended;
    if (wanted === this.holding) return;
    this.holding = wanted;
    if (wanted) this.reporter.hold();
    else this.reporter.release();
  }

  /** The process runs and its channel arrived. */
  attach(pid: number, socket: Socket): void {
    this.pid = pid;
    this.socket = socket;
    if (!this.referenced) socket.unref();
    socket.on('error', () => undefined);
    socket.once('close', () => {
      this.connected = false;
      this.channelClosed = true;
      if (this.reporterGone) this.end(null, null);
    });
    if (this.options.raw) {
      this.emit('channel', socket);
      if (this.killWith) this.kill(this.killWith);
      return;
    }
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => this.receive(text));
    for (const { line, callback } of this.unsent.splice(0)) socket.write(line, (error) => callback(error ?? null));
    if (this.killWith) this.kill(this.killWith);
    if (!this.connected) socket.end();
  }

  /** The process could not be started. */
  failed(error: Error): void {
    this.connected = false;
    this.ended = true;
    this.holdReporter();
    this.emit('error', error);
  }

  /** The host's spawner saw the process exit. */
  exited(code: number | null, signal: NodeJS.Signals | null): void {
    this.end(code, signal);
  }

  /** The host's spawner is gone: no exit will be reported; the channel's close stands for it. */
  reporterLost(): void {
    this.reporterGone = true;
    if (this.channelClosed || !this.socket) this.end(null, null);
  }

  private end(code: number | null, signal: NodeJS.Signals | null): void {
    this.connected = false;
    if (this.ended) return;
    this.ended = true;
    this.holdReporter();
    this.emit('exit', code, signal);
  }

  send(message: ToSpawner, callback: (error: Error | null) => void): boolean {
    const line = `${JSON.stringify(message)}\n`;
    if (this.socket) this.socket.write(line, (error) => callback(error ?? null));
    else this.unsent.push({ line, callback });
    return true;
  }

  /** Closes the channel: the spawner exits when it sees that. */
  disconnect(): void {
    this.connected = false;
    this.socket?.end();
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.pid === undefined) {
      // Not started yet: it is killed as soon as it is, and counts as ended from now on.
      this.killWith = signal;
      if (signal === 'SIGKILL') this.end(null, signal);
      return true;
    }
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  ref(): void {
    this.referenced = true;
    this.socket?.ref();
    this.holdReporter();
  }

  unref(): void {
    this.referenced = false;
    this.socket?.unref();
    this.holdReporter();
  }

  private receive(text: string): void {
    this.received += text;
    let newline = this.received.indexOf('\n');
    while (newline !== -1) {
      const line = this.received.slice(0, newline);
      this.received = this.received.slice(newline + 1);
      newline = this.received.indexOf('\n');
      if (line.length === 0) continue;
      let message: SpawnerMessage | { cmd?: string };
      try {
        message = JSON.parse(line) as SpawnerMessage | { cmd?: string };
      } catch {
        // Not the spawner speaking: nothing more from this channel is trusted.
        this.socket?.destroy();
        return;
      }
      // Node's own messages on the channel (handle passing, which the spawner never does).
      if ('cmd' in message && typeof message.cmd === 'string' && message.cmd.startsWith('NODE_')) continue;
      this.emit('message', message);
    }
  }
}
