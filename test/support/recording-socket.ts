import type { WebSocket } from 'ws';

/** What a fake socket recorded, in order: each frame sent (parsed from its JSON) and each close. */
export type Recorded<Frame> = Frame | { close: number };

/**
 * A stand-in for a `ws` socket that is open and keeps up, for the gateway's feed tests: the code
 * under test gets `socket` (a WebSocket to it), the test reads `sent` and may set
 * `fake.bufferedAmount` to play a client that has fallen behind.
 */
export function recordingSocket<Frame = { type: string; data: Record<string, unknown> }>() {
  const sent: Array<Recorded<Frame>> = [];
  const fake = {
    OPEN: 1,
    CONNECTING: 0,
    readyState: 1,
    bufferedAmount: 0,
    on: () => fake,
    send: (data: Buffer | string) => sent.push(JSON.parse(data.toString()) as Frame),
    close: (code: number) => {
      sent.push({ close: code });
      fake.readyState = 3;
    },
    terminate: () => undefined,
  };
  return { fake, socket: fake as unknown as WebSocket, sent };
}

/** The frames of a recording, without its closes. */
export const framesOf = <Frame>(sent: Array<Recorded<Frame>>): Frame[] =>
  sent.filter((m): m is Frame => !(typeof m === 'object' && m !== null && 'close' in m));
