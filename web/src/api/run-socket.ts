/**
 * A WebSocket to the gateway's run feed (`/ws/pipeline-runs/{id}` for one run, `/ws/pipeline-runs/`
 * for all runs) with reconnects. After repeated failures it reports `failed` so the caller can fall
 * back to polling the REST API.
 */
import { loadGateway } from './gateway';
import { validAccessToken } from './session';
import type { RunSocketMessage } from './types';

export type SocketState = 'connecting' | 'open' | 'closed' | 'failed';

export interface RunSocketHandlers {
  onMessage(message: RunSocketMessage): void;
  onState?(state: SocketState): void;
  /** Return true when the server closing the socket is expected (the run finished): no reconnect. */
  isDone?(): boolean;
}

const MAX_FAILURES = 4;

export function openRunSocket(runId: number | null, handlers: RunSocketHandlers): () => void {
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
    const path = runId === null ? '/ws/pipeline-runs/' : `/ws/pipeline-runs/${runId}`;
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
        const message = JSON.parse(event.data) as RunSocketMessage;
        if (message && (message.type === 'pipeline_status_update' || message.type === 'log' || message.type === 'ansible_events')) {
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
