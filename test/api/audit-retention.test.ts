/**
 * The audit log's retention through the real server (issue 16: "no API to edit or delete events,
 * only retention"): with ANSFLOW_AUDIT_RETENTION_DAYS set, the server's own sweeper removes events
 * older than that, keeps the newer ones, and says so in an `audit.prune` event that the audit API
 * shows; without it, nothing is removed (the default keeps the log whole).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { waitFor } from '../support/wait.js';
import { RetentionRepository } from '../../src/store/retention-repository.js';

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();

/**
 * Events of an installation's past. A server writes events in time order, so older ones have lower
 * ids; these get ids below those of the events this server wrote as it started (negative ones).
 */
async function backdatedEvents(h: Harness, ages: number[]): Promise<void> {
  for (const [i, age] of ages.entries())
    await h.ctx.db.kysely
      .insertInto('audit_events')
      .values({
        id: i - ages.length,
        at: daysAgo(age),
        actor_id: null,
        actor_username: 'old-admin',
        source_ip: null,
        user_agent: null,
        action: 'pipeline.update',
        target_type: 'pipeline',
        target_id: `old-${i}`,
        target_name: null,
        project_id: null,
        diff: null,
      })
      .execute();
}

describe('audit retention: ANSFLOW_AUDIT_RETENTION_DAYS=30', () => {
  let h: Harness;
  let admin: string;
  before(async () => {
    h = await startApi({ retentionSweepSeconds: 1 }, { ANSFLOW_AUDIT_RETENTION_DAYS: '30' });
    admin = await h.login();
  });
  after(() => h.close());

  test('events older than 30 days go, newer ones stay, and the log records the prune', async () => {
    // Ages 400, 90 and 31 days go; 29 and 1 stay.
    await backdatedEvents(h, [400, 90, 31, 29, 1]);
    const prune = await waitFor(
      async () => {
        const r = await h.request('GET', '/api/audit-events/?action=audit.prune', { token: admin });
        assert.equal(r.status, 200, r.text);
        return r.json.results.length > 0 ? r.json.results[0] : undefined;
      },
      20_000,
      'an audit.prune event',
    );
    assert.equal(prune.diff.removed.after, 3);
    assert.equal(prune.actor, null);
    const old = await h.request('GET', '/api/audit-events/?actor=old-admin', { token: admin });
    assert.equal(old.status, 200, old.text);
    const kept = (old.json.results as { target: { id: string } }[]).map((e) => e.target.id).sort();
    assert.deepEqual(kept, ['old-3', 'old-4']);
    const logins = await h.request('GET', '/api/audit-events/?action=login.succeeded', { token: admin });
    assert.ok(logins.json.results.length >= 1, 'recent events are kept');
  });
});

describe('audit retention: unset (the default)', () => {
  let h: Harness;
  let admin: string;
  before(async () => {
    h = await startApi({ retentionSweepSeconds: 1 });
    admin = await h.login();
  });
  after(() => h.close());

  test('nothing is removed, however old', async () => {
    await backdatedEvents(h, [4000, 400]);
    // Two sweeps finished after the events were written: the first may have begun before them.
    const repository = new RetentionRepository(h.ctx.db.kysely);
    const since = new Date().toISOString();
    let sweeps = 0;
    let last: string | null = null;
    await waitFor(
      async () => {
        const record = await repository.record();
        const finished = record?.last_finished_at ?? null;
        if (finished !== null && finished > since && finished !== last) {
          last = finished;
          sweeps++;
        }
        return sweeps >= 2 ? true : undefined;
      },
      20_000,
      'two sweeps',
    );
    const old = await h.request('GET', '/api/audit-events/?actor=old-admin', { token: admin });
    assert.equal(old.status, 200, old.text);
    assert.equal(old.json.results.length, 2);
    const prunes = await h.request('GET', '/api/audit-events/?action=audit.prune', { token: admin });
    assert.equal(prunes.json.results.length, 0);
  });
});
