/**
 * Redis for tests. The shared server (ANSFLOW_TEST_REDIS_URL, default 127.0.0.1:6379) is used by
 * other test runs at the same time, so every test works under its own random key prefix and
 * deletes it afterwards. When Redis is unreachable the test says so loudly and skips — except
 * under CI=true, where it fails. Tests that kill or restart Redis start a private server instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { freePort } from './server-process.js';

const URL = process.env.ANSFLOW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestRedis {
  url: string;
  /** Unique to this call: use it for every key and channel. */
  prefix: string;
  /** Deletes every key under the prefix. */
  cleanup(): Promise<void>;
}

/** The shared Redis with a fresh prefix, or null (after a loud warning) when unreachable outside CI. */
export async function connectTestRedis(): Promise<TestRedis | null> {
  const client = new Redis(URL, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    const message = `Redis is unreachable at ${URL}: ${(error as Error).message}`;
    if (process.env.CI === 'true') throw new Error(`${message} (CI=true: Redis tests must run)`);
    console.warn(`\n!!! SKIPPING Redis tests: ${message}\n`);
    return null;
  }
  const prefix = `ansflow-test-${randomBytes(6).toString('hex')}`;
  return {
    url: URL,
    prefix,
    async cleanup() {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await client.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      await client.quit();
    },
  };
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** Kills the server at once (SIGKILL); its data is gone (no persistence). */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

/** A redis-server child of this test on a free port, without persistence. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const server: PrivateRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async kill() {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      child = null;
    },
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      await waitForPing(server.url);
    },
  };
  await server.start();
  return server;
}

async function waitForPing(url: string): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch (error) {
      client.disconnect();
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
