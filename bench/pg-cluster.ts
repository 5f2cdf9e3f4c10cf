/**
 * The set-up bench/schedules.ts and bench/notifications.ts share: a fresh PostgreSQL database, a
 * Redis prefix, real processes on both (test/scale/support.ts: `apis` API processes, no gateway,
 * `workers` worker processes of 2 slots each), a direct database client and the admin's token.
 *
 *   const bench = await startPgCluster({ apis: 3, workers: 0 });
 *   try { ... } catch (error) { bench.printOutputs(); throw error; } finally { await bench.stop(); }
 *
 * If the start fails, what was already set up is removed before the error is thrown.
 */
import pg from 'pg';
import { createTestDatabase } from '../test/support/postgres.js';
import { connectTestRedis } from '../test/support/redis.js';
import { login, startCluster, type Cluster } from '../test/scale/support.js';

export interface PgClusterBench {
  cluster: Cluster;
  /** Connected to the benchmark's database, for reading (or filling) it directly. */
  client: pg.Client;
  /** The API processes' base URLs, in start order. */
  bases: string[];
  /** The admin's access token (logged in through the first API process). */
  token: string;
  /** The processes' last output on stderr (for a failure). */
  printOutputs(): void;
  /** Stops the processes, closes the client, drops the database and the Redis keys; never throws. */
  stop(): Promise<void>;
}

/** `env`: more environment for every process (a setting the bench compares). */
export async function startPgCluster(options: { apis: number; workers: number; env?: Record<string, string> }): Promise<PgClusterBench> {
  const db = await createTestDatabase();
  const redis = await connectTestRedis();
  if (!db || !redis) {
    await db?.drop().catch(() => {});
    await redis?.cleanup().catch(() => {});
    throw new Error('this benchmark needs PostgreSQL and Redis');
  }
  const client = new pg.Client({ connectionString: db.url });
  let cluster: Cluster | null = null;
  const stop = async () => {
    await client.end().catch(() => {});
    await cluster?.stop().catch(() => {});
    await redis.cleanup().catch(() => {});
    await db.drop().catch(() => {});
  };
  try {
    cluster = await startCluster({
      databaseUrl: db.url,
      redisUrl: redis.url,
      redisPrefix: redis.prefix,
      apis: options.apis,
      gateway: false,
      ...(options.env ? { env: options.env } : {}),
      workers: Array.from({ length: options.workers }, () => ({ concurrency: 2 })),
    });
    await client.connect();
    const bases = cluster.apis.map((p) => p.baseUrl);
    const token = await login(bases[0]!);
    const started = cluster;
    return { cluster: started, client, bases, token, printOutputs: () => console.error(started.outputs().slice(-6000)), stop };
  } catch (error) {
    if (cluster) console.error(cluster.outputs().slice(-6000));
    await stop();
    throw error;
  }
}
