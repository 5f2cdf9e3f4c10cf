/**
 * A spawner this process did not fork itself: the host's spawner started it (`start-process`,
 * spawner-protocol.ts) and handed over the socket that is its IPC channel. This class speaks
 * Node's IPC framing on that socket (JSON, one message per line, as `serialization: 'json'` does)
 * and looks to `Spawner` like the ChildProcess of a fork(): messages, `exit` once the channel
 * closes (the spawner exits when it does, and it is gone when it closes), kill() by pid.
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

export class HandedOverProcess extends EventEmitter implements SpawnerProcess {
  pid: number | undefined;
  connected = true;
  private socket: Socket | null = null;
  private received = '';
  private referenced = true;
  private killWith: NodeJS.Signals | null = null;
  private readonly unsent: Array<{ line: string; callback: (error: Error | null) => void }> = [];

  /** The process runs and its channel arrived. */
  attach(pid: number, socket: Socket): void {
    this.pid = pid;
    this.socket = socket;
    if (!this.referenced) socket.unref();
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => this.receive(text));
    socket.on('error', () => undefined);
    const endedAlready = this.killWith === 'SIGKILL' && !this.connected;
    socket.once('close', () => {
      this.connected = false;
      if (!endedAlready) this.emit('exit', null, null);
    });
    for (const { line, callback } of this.unsent.splice(0)) socket.write(line, (error) => callback(error ?? null));
    if (this.killWith) this.kill(this.killWith);
    if (!this.connected) socket.end();
  }

  /** The process could not be started. */
  failed(error: Error): void {
    this.connected = false;
    this.emit('error', error);
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
      if (signal === 'SIGKILL' && this.connected) {
        this.connected = false;
        this.emit('exit', null, signal);
      }
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
  }

  unref(): void {
    this.referenced = false;
    this.socket?.unref();
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
