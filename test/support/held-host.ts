/**
 * An inventory host the test holds: a loopback TCP port that accepts ssh's connection and says
 * nothing until `release()`, then hangs up (that host comes out unreachable). Give it
 * `ansible_ssh_timeout=3600` in the inventory so only the test ends ssh's wait: a connectivity
 * check cannot end before the test lets it, whatever the machine's load.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';

export interface HeldHost {
  port: number;
  /** Whether ssh has connected to it. */
  connected(): boolean;
  release(): void;
  close(): Promise<void>;
}

export async function heldHost(): Promise<HeldHost> {
  const held = new Set<Socket>();
  let released = false;
  let seen = false;
  const server: Server = createServer((socket) => {
    seen = true;
    if (released) return socket.destroy();
    held.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return {
    port: address.port,
    connected: () => seen,
    release() {
      released = true;
      for (const socket of held) socket.destroy();
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
