/**
 * A WebSocket to one of the gateway's live feeds with reconnects: a run's (`/ws/pipeline-runs/{id}`),
 * all runs' (`/ws/pipeline-runs/`), an inventory's connectivity checks (`/ws/inventories/{id}`).
 * After repeated failures it reports `failed` so the caller can fall back to polling the REST API.
 */
import { loadGateway } from './gateway';
import { validAccessToken } from './session';
import type { RunSocketMessage } from './types';

export type SocketState = 'connecting' | 'open' | 'closed' | 'failed';

export interface FeedSocketHandlers<M> {
  onMessage(message: M): void;
  onState?(state: SocketState): void;
  /** Return true when the server closing the socket is expected (the run finished): no reconnect. */
  isDone?(): boolean;
}

export type RunSocketHandlers = FeedSocketHandlers<RunSocketMessage>;

const RUN_MESSAGES = new Set(['pipeline_status_update', 'log', 'ansible_events']);

const MAX_FAILURES = 4;

export function openRunSocket(runId: number | null, handlers: RunSocketHandlers): () => void {
  return openFeedSocket(runId === null ? '/ws/pipeline-runs/' : `/ws/pipeline-runs/${runId}`, RUN_MESSAGES, handlers);
}

/** Opens the feed at `path`; messages whose type is not in `types` are ignored. */
export function openFeedSocket<M extends { type: string }>(path: string, types: ReadonlySet<string>, handlers: FeedSocketHandlers<M>): () => void {
  let socket: WebSocket | null = null;
  let stopped = false;
  let failures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;

  const connect = async () => {
    if (stopped) return;
    handlers.onState?.('connecting');
    const [{ gateway }, token] = await Promise.all([loadGateway(), validAccessToken().catch(() => null)]);
    if (stopped) return;
    if (!token) {
      handlers.onState?.('failed');
      return;
    }
    let received = false;
    try {
      socket = new WebSocket(`${gateway.ws}${path}?token=${encodeURIComponent(token)}`);
    } catch {
      handlers.onState?.('failed');
      return;
    }
    socket.onopen = () => {
      handlers.onState?.('open');
    };
    socket.onmessage = (event) => {
      if (typeof event.data !== 'string') return;
      try {
        const message = JSON.parse(event.data) as M;
        if (message && types.has(message.type)) {
          failures = 0;
          received = true;
          handlers.onMessage(message);
        }
      } catch {
        // ignore malformed frames
      }
    };
    socket.onclose = () => {
      socket = null;
      if (stopped) return;
      if (handlers.isDone?.()) {
        handlers.onState?.('closed');
        return;
      }
      // a socket that closes before sending anything (refused, bad token) counts as a failure
      failures += received ? 0 : 1;
      if (failures >= MAX_FAILURES) {
        handlers.onState?.('failed');
        return;
      }
      handlers.onState?.('connecting');
      retryTimer = setTimeout(() => void connect(), Math.min(1000 * 2 ** failures, 10_000));
    };
  };

  void connect();

  return () => {
    stopped = true;
    if (retryTimer !== null) clearTimeout(retryTimer);
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000);
    socket = null;
  };
}
