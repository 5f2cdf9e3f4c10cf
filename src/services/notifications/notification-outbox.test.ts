/**
 * The outbox's pass when another process claims rows it has just read (every process reads the
 * same first due rows): the slots those rows would have taken are filled at once from the next
 * due rows, not left empty until a poll. A real SQLite database; the other process is a second
 * claimant on the same rows.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config.js';
import { createContext, type AppContext } from '../../runtime/context.js';
import { createLogger } from '../../runtime/logger.js';
import { notificationsOf } from '../../runtime/notifications.js';
import { transactor } from '../../store/transaction.js';
import type { NotificationsRepository } from '../../store/notifications-repository.js';
import type { NotificationPayload } from '../../domain/notifications.js';
import { NotificationOutbox } from './notification-outbox.js';
import { waitFor } from '../../../test/support/wait.js';

let ctx: AppContext;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ansflow-outbox-'));
  ctx = await createContext(loadConfig({ NODE_ENV: 'test', ANSFLOW_DATA_DIR: dir }), createLogger('warn'));
  await ctx.users.ensureAdmin('admin123');
});
after(async () => {
  await ctx?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('rows another process claims between the read and the claim leave no slot empty: the pass goes again at once', async () => {
  const repository = notificationsOf(ctx).repository;
  const project = (await ctx.db.kysely.selectFrom('projects').select('id').executeTakeFirstOrThrow()).id;
  const channel = (await repository.create(
    {
      project_id: project,
      name: 'racing',
      kind: 'webhook',
      config: { url: 'http://receiver.example/' } as never,
      events: ['run_failed'],
      pipelines: null,
      enabled: true,
    },
    1,
  ))!;
  const at = new Date(Date.now() - 1000).toISOString();
  for (let i = 0; i < 6; i++)
    await repository.enqueue({
      channelId: channel.id,
      runId: null,
      event: 'run_failed',
      occurrence: `o-${i}`,
      payload: { event: 'run_failed' } as unknown as NotificationPayload,
      at,
    });
  // The other process claims the first two rows this one read, once, before this one claims them.
  let raced = false;
  const racing = Object.create(repository) as NotificationsRepository;
  racing.due = async (now, limit) => {
    const rows = await repository.due(now, limit);
    if (!raced) {
      raced = true;
      for (const row of rows.slice(0, 2)) assert.ok(await repository.claim(row.id, 'another-process', now, new Date(Date.now() + 3_600_000).toISOString()));
    }
    return rows;
  };
  const held: number[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const outbox = new NotificationOutbox({
    notifications: racing,
    transaction: transactor(ctx.db.kysely),
    events: ctx.events,
    logger: ctx.logger,
    publicUrl: 'http://ansflow.example',
    // No poll within the test: only the pass itself can fill the slots.
    timing: { concurrency: 4, pollMs: 3_600_000, sweepMs: 3_600_000 },
    send: async (_channel, _secret, row) => {
      held.push(row.id);
      await released;
      return { kind: 'delivered', statusCode: 200, answer: 'ok' };
    },
  });
  try {
    outbox.wake();
    // A bound for a hang, not a speed target: before, the two free slots waited for the poll.
    await waitFor(async () => held.length >= 4, 10_000, 'four sends in flight').catch(() => undefined);
    assert.equal(held.length, 4, `sends in flight: ${held.length} of 4`);
    assert.equal(new Set(held).size, 4);
  } finally {
    release();
    await outbox.stop();
  }
});
