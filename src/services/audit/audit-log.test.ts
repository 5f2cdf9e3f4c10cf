/**
 * Audit retention on a real database (SQLite, migrated): what `prune` removes and keeps, the
 * `audit.prune` event it writes in the same transaction, and the sweeper's loop over batches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../store/db.js';
import { migrateToLatest } from '../../store/migrate.js';
import { AuditEventsRepository } from '../../store/audit-events-repository.js';
import { RetentionRepository } from '../../store/retention-repository.js';
import { transactor } from '../../store/transaction.js';
import { RetentionSweeper } from '../retention/retention-sweeper.js';
import { AuditLog } from './audit-log.js';

async function withLog(work: (log: AuditLog, events: AuditEventsRepository, dir: string, db: ReturnType<typeof openDb>) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'ansflow-audit-'));
  const db = openDb({ databaseUrl: null, dataDir: dir });
  try {
    await migrateToLatest(db);
    const events = new AuditEventsRepository(db.kysely);
    await work(new AuditLog(events, transactor(db.kysely)), events, dir, db);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const day = (n: number) => new Date(Date.UTC(2026, 0, n)).toISOString();
const event = (i: number) => ({
  action: 'pipeline.update',
  actor: { id: 1, username: 'admin' },
  origin: null,
  target: { type: 'pipeline', id: i, name: `p${i}` },
});

test('prune removes the oldest events before the cutoff, at most `limit`, and writes audit.prune in the same transaction', async () => {
  await withLog(async (log, events) => {
    for (let i = 1; i <= 10; i++) await events.insert(event(i), day(i));
    assert.equal(await log.prune(day(6), 3), 3, 'the batch limit holds');
    assert.equal(await log.prune(day(6), 100), 2, 'then the rest before the cutoff (days 4 and 5)');
    assert.equal(await log.prune(day(6), 100), 0, 'nothing more is older than the cutoff');
    const left = await log.list({}, 100);
    const updates = left.filter((e) => e.action === 'pipeline.update').map((e) => e.target.id);
    assert.deepEqual(updates, ['10', '9', '8', '7', '6'], 'events on or after the cutoff stay');
    const prunes = left.filter((e) => e.action === 'audit.prune');
    assert.equal(prunes.length, 2, 'one audit.prune per batch that removed something, none for an empty one');
    assert.deepEqual(prunes[0]!.diff, { removed: { after: 2 }, older_than: { after: day(6) } });
    assert.equal(prunes[0]!.actor, null, 'the sweeper, not a user');
  });
});

test('prune never removes the newest event, so ids are never reused after a full expiry', async () => {
  await withLog(async (log, events) => {
    for (let i = 1; i <= 3; i++) await events.insert(event(i), day(i));
    // Every event is past the cutoff; the newest stays (its id is the high-water mark).
    assert.equal(await log.prune(day(30), 100), 2);
    const left = await log.list({}, 100);
    assert.deepEqual(
      left.map((e) => [e.action, e.target.id]),
      [
        ['audit.prune', null],
        ['pipeline.update', '3'],
      ],
    );
    await events.insert(event(4), day(31));
    const newest = (await log.list({}, 1))[0]!;
    assert.ok(newest.id > left[0]!.id, 'a new event gets an id above every earlier one');
  });
});

test('the sweeper prunes the audit log in batches until nothing is past its retention', async () => {
  await withLog(async (log, events, dir, db) => {
    for (let i = 1; i <= 2500; i++) await events.insert(event(i), day(1));
    await events.insert(event(9999), day(20));
    const sweeper = new RetentionSweeper({
      retention: new RetentionRepository(db.kysely),
      defaults: { keep_runs: null, keep_days: null },
      owner: 'test',
      logsRoot: join(dir, 'logs'),
      workspaceRoot: join(dir, 'workspaces'),
      pruneAuditEvents: (now, limit) => log.prune(new Date(Date.parse(now) - 10 * 86_400_000).toISOString(), limit),
      now: () => Date.parse(day(25)),
      intervalMs: 60_000,
      batch: 10,
      pauseMs: 0,
    });
    const result = await sweeper.sweepOnce();
    assert.equal(result?.auditEvents, 2500, 'three batches (1,000 + 1,000 + 500)');
    const left = await log.list({}, 100);
    assert.deepEqual(
      left.filter((e) => e.action === 'pipeline.update').map((e) => e.target.id),
      ['9999'],
    );
    assert.equal(left.filter((e) => e.action === 'audit.prune').length, 3);
  });
});
