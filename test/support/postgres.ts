/**
 * A fresh PostgreSQL database per test file. When PostgreSQL is unreachable the test says so
 * loudly and skips — except under CI=true, where it fails.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ADMIN_URL = process.env.ANSFLOW_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Returns a new empty database, or null (after a loud warning) when PostgreSQL cannot be reached outside CI. */
export async function createTestDatabase(): Promise<TestDatabase | null> {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    const message = `PostgreSQL is unreachable at ${ADMIN_URL}: ${(error as Error).message}`;
    if (process.env.CI === 'true') throw new Error(`${message} (CI=true: PostgreSQL tests must run)`);
    console.warn(`\n!!! SKIPPING PostgreSQL tests: ${message}\n`);
    return null;
  }
  const name = `ansflow_test_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  return {
    url,
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
