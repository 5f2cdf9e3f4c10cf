/**
 * A CLI command's WebSocket feed on the gateway (docs/websocket.md): where the gateway is, from the
 * API's public `/api/config/`, and a connection whose messages queue until the command reads them.
 */
import { WebSocket } from 'ws';
import type { ApiClient } from './api-client.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0', '']);

/**
 * The gateway's WebSocket base URL. `/api/config/` names it as the server sees it; a loopback (or
 * any-address) host there means "the machine the API is on", which for a CLI on another computer
 * is the host of the API URL it was given (the same rule as the web UI, web/src/api/gateway-url.ts).
 */
export function gatewayWsBase(apiUrl: string, gatewayUrl: string): string {
  const api = new URL(apiUrl);
  const gateway = new URL(gatewayUrl);
  const host = LOOPBACK.has(gateway.hostname) ? api.hostname : gateway.hostname;
  const port = gateway.port || (gateway.protocol === 'https:' ? '443' : '80');
  const secure = api.protocol === 'https:' || gateway.protocol === 'https:';
  return `${secure ? 'wss' : 'ws'}://${host}:${port}${gateway.pathname.replace(/\/+$/, '')}`;
}

export interface FeedMessage {
  type: string;
  data: any;
}

export interface Feed {
  /** The next message, or null once the socket has closed (`closeReason` says why). */
  next(): Promise<FeedMessage | null>;
  closeReason(): string;
  close(): void;
}

/**
 * Opens `path` on the gateway with the client's token (as a header: this is not a browser) and
 * resolves once the first message has come, the server's word that the feed is in place: events
 * from then on are queued for `next()`. Rejects with the reason when it cannot get there within
 * `timeoutMs` (a closed port, a proxy without WebSocket, a refused token).
 */
export async function openFeed(api: ApiClient, path: string, timeoutMs = 15_000): Promise<{ feed: Feed; first: FeedMessage }> {
  const config = (await api.call('GET', '/api/config/')) as { gateway_url: string };
  const url = gatewayWsBase(api.baseUrl, config.gateway_url) + path;
  const token = api.accessToken;
  const socket = new WebSocket(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, handshakeTimeout: timeoutMs });
  const queue: FeedMessage[] = [];
  const waiting: Array<(m: FeedMessage | null) => void> = [];
  let closed = false;
  let reason = '';
  socket.on('message', (raw) => {
    let message: FeedMessage;
    try {
      message = JSON.parse(raw.toString());
    } catch {
      return; // not ours to read
    }
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  socket.on('error', (error) => (reason ||= error.message));
  socket.on('close', (code, why) => {
    closed = true;
    reason ||= `closed ${code}${why.length ? ` ${why.toString()}` : ''}`;
    for (const waiter of waiting.splice(0)) waiter(null);
  });
  const feed: Feed = {
    next: () => {
      const message = queue.shift();
      if (message) return Promise.resolve(message);
      if (closed) return Promise.resolve(null);
      return new Promise((resolve) => waiting.push(resolve));
    },
    closeReason: () => reason,
    close: () => socket.terminate(),
  };
  let timer: NodeJS.Timeout | undefined;
  const first = await Promise.race([
    feed.next(),
    new Promise<null>((resolve) => {
      timer = setTimeout(() => {
        reason ||= `no answer from ${url} within ${timeoutMs / 1000} s`;
        resolve(null);
      }, timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  if (!first) {
    feed.close();
    throw new Error(`${url.replace(/\?.*/, '')}: ${reason}`);
  }
  return { feed, first };
}
