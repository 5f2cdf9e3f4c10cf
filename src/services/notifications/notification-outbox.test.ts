/**
 * The outbox's passes against a real SQLite database: a pass claims its batch in one statement and
 * a delivery costs one more (its settling), with the channel read once for the batch; a second
 * process sharing the rows takes the others, none twice.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KyselyPlugin } from 'kysely';
import { loadConfig } from '../../config.js';
import { createContext, type AppContext } from '../../runtime/context.js';
import { createLogger } from '../../runtime/logger.js';
import { transactor } from '../../store/transaction.js';
import { NotificationsRepository } from '../../store/notifications-repository.js';
import type { NotificationPayload } from '../../domain/notifications.js';
import { NotificationOutbox, type NotificationTiming } from './notification-outbox.js';
import type { SendNotification } from './send-notification.js';
import { waitFor } from '../../../test/support/wait.js';

let ctx: AppContext;
let dir: string;
let repository: NotificationsRepository;
let project: number;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ansflow-outbox-'));
  ctx = await createContext(loadConfig({ NODE_ENV: 'test', ANSFLOW_DATA_DIR: dir }), createLogger('warn'));
  await ctx.users.ensureAdmin('admin123');
  repository = new NotificationsRepository(ctx.db.kysely, ctx.secrets);
  project = (await ctx.db.kysely.selectFrom('projects').select('id').executeTakeFirstOrThrow()).id;
});
after(async () => {
  await ctx?.close();
  rmSync(dir, { recursive: true, force: true });
});

let channels = 0;
/** A webhook channel with `n` due deliveries. */
async function channelWithBacklog(n: number): Promise<number> {
  const channel = (await repository.create(
    {
      project_id: project,
      name: `channel-${++channels}`,
      kind: 'webhook',
      config: { url: 'http://receiver.example/' } as never,
      events: ['run_failed'],
      pipelines: null,
      enabled: true,
      secret: 'signing-secret',
    },
    1,
  ))!;
  const at = new Date(Date.now() - 1000).toISOString();
  for (let i = 0; i < n; i++)
    await repository.enqueue({
      channelId: channel.id,
      runId: null,
      event: 'run_failed',
      occurrence: `o-${i}`,
      payload: { event: 'run_failed' } as unknown as NotificationPayload,
      at,
    });
  return channel.id;
}

/** A sender that holds every send until released, recording what it was given. */
function heldSender() {
  const held: Array<{ id: number; secret: string | null }> = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const send: SendNotification = async (_channel, secret, row) => {
    held.push({ id: row.id, secret });
    await released;
    return { kind: 'delivered', statusCode: 200, answer: 'ok' };
  };
  return { held, send, release: () => release() };
}

function outboxOn(notifications: NotificationsRepository, send: SendNotification, timing: Partial<NotificationTiming>) {
  return new NotificationOutbox({
    notifications,
    transaction: transactor(ctx.db.kysely),
    events: ctx.events,
    logger: ctx.logger,
    publicUrl: 'http://ansflow.example',
    // No poll within a test: only passes the test causes run.
    timing: { pollMs: 3_600_000, sweepMs: 3_600_000, ...timing },
    send,
  });
}

const pendingOf = async (channelId: number) =>
  Number(
    (
      await ctx.db.kysely
        .selectFrom('notification_deliveries')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('channel_id', '=', channelId)
        .where('outcome', '=', 'pending')
        .executeTakeFirstOrThrow()
    ).n,
  );

test('a batch of deliveries costs one claiming statement, the channel read once, and one settling statement each', async () => {
  const channelId = await channelWithBacklog(20);
  let statements = 0;
  const counting: KyselyPlugin = {
    transformQuery: (args) => {
      statements++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  const sender = heldSender();
  const outbox = outboxOn(new NotificationsRepository(ctx.db.kysely.withPlugin(counting), ctx.secrets), sender.send, {
    concurrency: 20,
  });
  try {
    // The sweep looks for runs once, at the first pass; counting starts after it.
    await outbox.tick();
    sender.release();
    await waitFor(async () => (await pendingOf(channelId)) === 0, 20_000, 'the backlog sent');
    await outbox.stop();
    assert.equal(sender.held.length, 20);
    assert.ok(sender.held.every((s) => s.secret === 'signing-secret'));
    // The first pass: the sweep's reads (2), the claim (1), the channel and its secret (2); then a
    // settle each (20), and a pass or two that finds nothing more due (after which settling sends
    // no longer look). Before: a read of due rows, then per delivery a claim, the channel, its
    // secret, and a read and a write to settle (5 × 20), and a look after every settle.
    assert.ok(statements <= 20 + 10, `statements for 20 deliveries: ${statements}`);
  } finally {
    sender.release();
    await outbox.stop();
  }
});

test('two processes on the same rows fill their slots from one batch each, none sent twice', async () => {
  const channelId = await channelWithBacklog(6);
  const sender = heldSender();
  const first = outboxOn(repository, sender.send, { concurrency: 4 });
  const second = outboxOn(repository, sender.send, { concurrency: 4 });
  try {
    await Promise.all([first.tick(), second.tick()]);
    // Both passes done: every row is claimed (4 + 2, in whichever order the two claims ran).
    assert.equal(await claimedOf(channelId), 6);
    await waitFor(async () => sender.held.length >= 6, 10_000, 'six sends in flight');
    assert.equal(sender.held.length, 6, `sends in flight: ${sender.held.length} of 6`);
    assert.equal(new Set(sender.held.map((s) => s.id)).size, 6);
    sender.release();
    await waitFor(async () => (await pendingOf(channelId)) === 0, 20_000, 'the six sent');
    const attempts = await ctx.db.kysely
      .selectFrom('notification_deliveries')
      .select(['attempts', 'attempt_log'])
      .where('channel_id', '=', channelId)
      .execute();
    assert.deepEqual(
      attempts.map((r) => [r.attempts, (JSON.parse(r.attempt_log) as unknown[]).length]),
      attempts.map(() => [1, 1]),
    );
  } finally {
    sender.release();
    await Promise.all([first.stop(), second.stop()]);
  }
});

/** Rows of the channel some process holds a claim on (a claim comes before its send starts). */
const claimedOf = async (channelId: number) =>
  Number(
    (
      await ctx.db.kysely
        .selectFrom('notification_deliveries')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('channel_id', '=', channelId)
        .where('claimed_by', 'is not', null)
        .executeTakeFirstOrThrow()
    ).n,
  );
