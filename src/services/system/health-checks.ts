/**
 * Health checks of backing services, each bounded by a short timeout so a hung service makes the
 * status "unhealthy" quickly instead of hanging the status endpoint.
 *   database  a `select 1`;
 *   redis     PING on a fresh connection (ioredis, no retries, no offline queue);
 *   rabbitmq  a TCP (or TLS for amqps) connection that sends the AMQP 0-9-1 protocol header and
 *             expects the broker's Connection.Start frame (frame type 1, channel 0, class 10,
 *             method 10): a port that is open but is not a broker fails.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { coerceError } from '../../domain/errors.js';

export type Health = 'healthy' | 'unhealthy';

export interface CheckResult {
  status: Health;
  /** Why it is unhealthy (no credentials: URLs are never included). */
  error?: string;
  latency_ms: number;
}

export async function timed(check: () => Promise<void>, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'healthy', latency_ms: Math.round(performance.now() - started) };
  } catch (thrown) {
    return { status: 'unhealthy', error: coerceError(thrown).message.slice(0, 200), latency_ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

export async function pingRedis(url: string, timeoutMs: number): Promise<void> {
  // Loaded on demand: ioredis is ~24 MB that an installation without Redis never needs.
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {}); // reported through the awaited calls below
  try {
    await client.connect();
    const answer = await client.ping();
    if (answer !== 'PONG') throw new Error(`unexpected PING answer ${JSON.stringify(answer).slice(0, 50)}`);
  } finally {
    client.disconnect();
  }
}

const AMQP_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');

export function pingRabbitmq(url: string, timeoutMs: number): Promise<void> {
  const parsed = new URL(url);
  const tls = parsed.protocol === 'amqps:';
  const port = Number(parsed.port || (tls ? 5671 : 5672));
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return new Promise<void>((resolve, reject) => {
    const socket: Socket = tls ? tlsConnect({ host, port, servername: host }) : netConnect({ host, port });
    let received = Buffer.alloc(0);
    const finish = (error?: Error) => {
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    socket.setTimeout(timeoutMs, () => finish(new Error(`no answer within ${timeoutMs} ms`)));
    socket.once(tls ? 'secureConnect' : 'connect', () => socket.write(AMQP_HEADER));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 11) return;
      if (received.subarray(0, 4).toString('latin1') === 'AMQP') return finish(new Error('the broker refused AMQP 0-9-1'));
      const isStart = received[0] === 1 && received.readUInt16BE(1) === 0 && received.readUInt16BE(7) === 10 && received.readUInt16BE(9) === 10;
      finish(isStart ? undefined : new Error('the answer is not an AMQP Connection.Start frame'));
    });
    socket.on('error', (error) => finish(error));
    socket.on('end', () => finish(new Error('the connection was closed before Connection.Start')));
  });
}
