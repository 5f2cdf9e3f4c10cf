/**
 * A unit of work across repositories: a change and its audit event commit together or not at all.
 * Repositories bound to `tx` (their `in(tx)`) run their queries on it. Inside `work`, every query
 * must go through `tx`: on SQLite the transaction holds the only connection, so a query on the
 * plain database would wait for it forever.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export type StoreTx = Kysely<Database>;

export type Transactor = <T>(work: (tx: StoreTx) => Promise<T>) => Promise<T>;

export const transactor =
  (db: Kysely<Database>): Transactor =>
  (work) =>
    db.isTransaction ? work(db) : db.transaction().execute(work);
