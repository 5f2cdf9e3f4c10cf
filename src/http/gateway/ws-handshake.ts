/**
 * The checks the `ws` library makes on an upgrade request, made first so that a malformed
 * handshake gets the unified error body: `ws` itself would write a bare `text/html` 400 onto the
 * socket. Mirrors ws's WebSocketServer.handleUpgrade (method, Upgrade, Sec-WebSocket-Key,
 * Sec-WebSocket-Version, Sec-WebSocket-Protocol); keep the two in step when ws is upgraded.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { AppError } from '../../domain/errors.js';

const KEY = /^[+/0-9A-Za-z]{22}==$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Throws a 400 AppError naming the header that makes this handshake one `ws` would refuse. */
export function assertValidHandshake(method: string, headers: IncomingHttpHeaders): void {
  if (method !== 'GET') throw refused('method', 'A WebSocket handshake must be a GET request');
  if (typeof headers.upgrade !== 'string' || headers.upgrade.toLowerCase() !== 'websocket') throw refused('upgrade', 'The Upgrade header must be "websocket"');
  const key = headers['sec-websocket-key'];
  if (typeof key !== 'string' || !KEY.test(key)) throw refused('sec-websocket-key', 'Missing or invalid Sec-WebSocket-Key header');
  const version = Number(headers['sec-websocket-version']);
  if (version !== 13 && version !== 8)
    throw refused('sec-websocket-version', 'Missing or unsupported Sec-WebSocket-Version header (13 or 8)', { 'Sec-WebSocket-Version': '13, 8' });
  const protocol = headers['sec-websocket-protocol'];
  if (protocol !== undefined) {
    const names = protocol.split(',').map((p) => p.trim());
    if (!names.every((n) => TOKEN.test(n)) || new Set(names).size !== names.length)
      throw refused('sec-websocket-protocol', 'Invalid Sec-WebSocket-Protocol header');
  }
}

/** `Connection: close`: the WebSocket plugin destroys an upgrade request's socket after any answer. */
function refused(field: string, message: string, headers: Record<string, string> = {}): AppError {
  return new AppError('VALIDATION_ERROR', message, { [field]: [message] }, { Connection: 'close', ...headers });
}
