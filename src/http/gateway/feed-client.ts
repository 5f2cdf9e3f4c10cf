/**
 * One WebSocket client of a live feed, with a bounded send buffer. A slow client never slows the
 * run or other clients, and never makes the server's memory grow:
 *   - log chunks are dropped while more than `softBytes` were waiting to be sent when the current
 *     turn of the event loop first sent to the client (see `behindAtTurnStart`); when the client
 *     has caught up it first gets `{"type":"resync","data":{run_id, steps:[{step_id, offset}]}}`
 *     naming, per step, the first offset it missed (GET /api/pipeline-runs/{id}/logs/?step=&offset=
 *     fills the gap), then live chunks again;
 *   - status updates are sent unless more than `hardBytes` are waiting; then only the latest one
 *     is kept and sent once the client has caught up (statuses are snapshots: the latest suffices);
 *   - the final status is always delivered, then the socket is closed (1000); a client that does
 *     not take it within `finalTimeoutMs` is terminated.
 * Until `release()` (the initial state has been sent) everything is held, within the same bounds.
 *
 * Log chunks are sent once per byte: per step the client keeps the offset it has been sent up
 * to, and a chunk it already has (the backlog read at connection covered it, or an event came
 * late from another process) is dropped, or cut where it overlaps.
 */
import type { WebSocket } from 'ws';

/** A log chunk: its message bytes (encoded once for every client) and how to re-encode a tail of it. */
export interface LogChunk {
  data: Buffer;
  stepId: number;
  offset: number;
  /** Byte length of its text. */
  length: number;
  /** The message for the chunk's bytes from `offset + skip` on. */
  tail(skip: number): Buffer;
}

export interface FeedLimits {
  softBytes: number;
  hardBytes: number;
  finalTimeoutMs?: number;
}

const HOLD_LIMIT = 256;

export class FeedClient {
  alive = true;
  private held: Array<() => void> | null = [];
  /** step id → first missed log offset */
  private readonly missed = new Map<number, number>();
  /** step id → the log offset sent up to (everything before it was sent or reported missed) */
  private readonly sentUpTo = new Map<number, number>();
  private pendingStatus: { data: Buffer; final: boolean } | null = null;
  private drainTimer: NodeJS.Timeout | null = null;
  private closing = false;
  /** Unsent bytes when the current turn of the event loop first sent a log chunk; null before. */
  private turnStartBuffered: number | null = null;

  constructor(
    readonly socket: WebSocket,
    private readonly runId: number | null,
    private readonly limits: FeedLimits,
  ) {
    socket.on('pong', () => (this.alive = true));
    socket.on('close', () => this.stopDrain());
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN && !this.closing;
  }

  /** Sends what was held while the initial state was being read. */
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const send of held) send();
  }

  sendLog(chunk: LogChunk): void {
    if (this.held) {
      if (this.held.length < HOLD_LIMIT) this.held.push(() => this.sendLog(chunk));
      else this.miss(chunk.stepId, chunk.offset);
      return;
    }
    if (!this.open) return;
    const upTo = this.sentUpTo.get(chunk.stepId) ?? 0;
    const end = chunk.offset + chunk.length;
    if (end <= upTo && chunk.length > 0) return;
    const data = chunk.offset < upTo ? chunk.tail(upTo - chunk.offset) : chunk.data;
    const offset = Math.max(chunk.offset, upTo);
    this.sentUpTo.set(chunk.stepId, Math.max(upTo, end));
    if (this.behindAtTurnStart()) {
      this.miss(chunk.stepId, offset);
      this.scheduleDrain();
      return;
    }
    this.flushResync();
    this.socket.send(data, { binary: false });
  }

  /**
   * Whether the client was behind before this turn's output: more than `softBytes` unsent when
   * the turn first sent it a log chunk. A step's output comes in bursts (spawner.pl's 1 MiB step
   * pipe can be read whole in one turn), and measured chunk by chunk a burst fills any small
   * buffer even for a client that reads as fast as it can: it would be told to resync for what
   * the step printed, not for what it failed to take. Judged once per turn, a client that took
   * what earlier turns sent gets the whole burst, and one that did not gets none of it. What a
   * client can have waiting stays bounded: `softBytes` plus one turn's output.
   */
  private behindAtTurnStart(): boolean {
    if (this.turnStartBuffered === null) {
      this.turnStartBuffered = this.socket.bufferedAmount;
      setImmediate(() => (this.turnStartBuffered = null));
    }
    return this.turnStartBuffered > this.limits.softBytes;
  }

  /** True while the client has more waiting than it should (a backlog reader stops then). */
  get behind(): boolean {
    return this.socket.bufferedAmount > this.limits.softBytes;
  }

  /** Marks a step's log from `offset` on as missed (the backlog stopped there): the next resync names it. */
  skipLog(stepId: number, offset: number): void {
    this.miss(stepId, offset);
    this.scheduleDrain();
  }

  /** Sends now, before what is held: the initial state and the backlog come before the live feed. */
  sendFirst(send: () => void): void {
    const held = this.held;
    this.held = null;
    try {
      send();
    } finally {
      this.held = held;
    }
  }

  /**
   * An Ansible step's events. Dropped for a client that is behind: the results are stored, and
   * GET /api/pipeline-runs/{id}/steps/{step_id}/ansible/ answers all of them.
   */
  sendAnsible(data: Buffer): void {
    this.sendOptional(data);
  }

  /**
   * A message the client can do without (it can read the same over HTTP): dropped while the
   * client is behind, or when too many are held before `release()`.
   */
  sendOptional(data: Buffer): void {
    if (this.held) {
      if (this.held.length < HOLD_LIMIT) this.held.push(() => this.sendOptional(data));
      return;
    }
    if (!this.open || this.socket.bufferedAmount > this.limits.softBytes) return;
    this.socket.send(data, { binary: false });
  }

  sendStatus(data: Buffer, final: boolean): void {
    if (this.held) {
      // Statuses are snapshots: only the latest held one matters, and it must not be dropped.
      this.held = this.held.filter((f) => !(f as { status?: true }).status);
      const send = Object.assign(() => this.sendStatus(data, final), { status: true as const });
      this.held.push(send);
      return;
    }
    if (!this.open) return;
    if (this.socket.bufferedAmount > this.limits.hardBytes) {
      this.pendingStatus = { data, final };
      this.scheduleDrain();
      return;
    }
    this.pendingStatus = null;
    this.flushResync();
    this.socket.send(data, { binary: false });
    if (final) this.closeAfterFinal();
  }

  /** Closes now (shutdown, auth failure, unknown run). */
  close(code: number, reason: string): void {
    this.closing = true;
    this.stopDrain();
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) this.socket.close(code, reason);
  }

  private closeAfterFinal(): void {
    this.closing = true;
    this.stopDrain();
    this.socket.close(1000, 'run finished');
    // close() waits for the queued frames; a client that never reads them is cut off.
    setTimeout(() => this.socket.terminate(), this.limits.finalTimeoutMs ?? 30_000).unref();
  }

  private miss(stepId: number, offset: number): void {
    if (!this.missed.has(stepId)) this.missed.set(stepId, offset);
  }

  private flushResync(): void {
    if (this.missed.size === 0) return;
    const steps = [...this.missed].map(([step_id, offset]) => ({ step_id, offset }));
    this.missed.clear();
    this.socket.send(JSON.stringify({ type: 'resync', data: { run_id: this.runId, reason: 'slow_consumer', steps } }));
  }

  /** Polls the socket's buffer while the client is behind (ws has no drain event). */
  private scheduleDrain(): void {
    if (this.drainTimer) return;
    this.drainTimer = setInterval(() => {
      if (this.socket.readyState !== this.socket.OPEN) return this.stopDrain();
      if (this.socket.bufferedAmount > this.limits.softBytes) return;
      this.stopDrain();
      this.flushResync();
      const pending = this.pendingStatus;
      if (pending) this.sendStatus(pending.data, pending.final);
    }, 50);
    this.drainTimer.unref();
  }

  private stopDrain(): void {
    if (this.drainTimer) clearInterval(this.drainTimer);
    this.drainTimer = null;
  }
}
