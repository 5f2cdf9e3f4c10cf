/**
 * History at any size (issue 15): run and delivery lists page by cursor as well as by page
 * number, filter by status, branch and trigger, count from kept counters (exact) or up to a cap
 * (flagged), on SQLite and PostgreSQL. Rows are seeded with straight inserts; every read goes
 * through the real server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { seedDeliveries, seededRun, seedRuns } from '../support/history-seed.js';

const RUNS = 2000;

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`run history on ${dialect}`, () => {
    let h: Harness | undefined;
    let pgDb: TestDatabase | null = null;
    let admin: string;
    let pipelineId: number;
    let projectId: number;
    before(async () => {
      if (dialect === 'postgres') {
        pgDb = await createTestDatabase();
        if (!pgDb) return;
      }
      h = await startApi(pgDb ? { databaseUrl: pgDb.url } : {});
      admin = await h.login();
      const project = await h.request('POST', '/api/projects/', { token: admin, body: { name: 'history' } });
      projectId = project.json.id;
      const created = await h.request('POST', '/api/pipelines/', {
        token: admin,
        body: { name: 'long history', project: projectId, steps: [{ name: 'build', type: 'shell_command', config: { command: 'true' } }] },
      });
      assert.equal(created.status, 201, created.text);
      pipelineId = created.json.id;
      await seedRuns(h.ctx.db.kysely, { pipelineId, projectId, pipelineName: 'long history', count: RUNS });
      await seedDeliveries(h.ctx.db.kysely, { count: 1050, projectId, prefix: 'hist' });
    });
    after(async () => {
      await h?.close();
      await pgDb?.drop();
    });
    const get = async (path: string, token = admin) => {
      const r = await h!.request('GET', path, { token });
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      return r.json;
    };
    const follow = (url: string, token = admin) => get(new URL(url).pathname + new URL(url).search, token);

    test('unfiltered counts are exact from the kept counters, also after runs are triggered through the API', async (t) => {
      if (!h) return t.skip('PostgreSQL unreachable');
      const first = await get(`/api/pipelines/${pipelineId}/runs/`);
      assert.equal(first.count, RUNS);
      assert.equal(first.count_capped, false);
      assert.equal(first.results[0].number, RUNS);
      const triggered = await h.request('POST', `/api/pipelines/${pipelineId}/run/`, { token: admin, body: {} });
      assert.equal(triggered.status, 201, triggered.text);
      assert.equal(triggered.json.number, RUNS + 1, 'numbers go on from the seeded ones');
      assert.equal((await get(`/api/pipelines/${pipelineId}/runs/`)).count, RUNS + 1);
      assert.equal((await get(`/api/pipeline-runs/?project=${projectId}`)).count, RUNS + 1);
      const everything = await get('/api/pipeline-runs/');
      assert.equal(everything.count, RUNS + 1);
      assert.equal((await get('/api/webhook-deliveries/')).count, 1050);
      const pipelines = await get(`/api/pipelines/?project=${projectId}`);
      assert.equal(pipelines.results[0].last_run.id, triggered.json.id);
    });

    test('next links carry a cursor; following them walks the whole history once, newest first, and previous walks back', async (t) => {
      if (!h) return t.skip('PostgreSQL unreachable');
      let page = await get(`/api/pipelines/${pipelineId}/runs/?page_size=100`);
      assert.equal(page.previous, null);
      assert.match(page.next, /page=2&cursor=b\d+$/);
      const seen: number[] = page.results.map((r: { id: number }) => r.id);
      const pages = [page];
      while (page.next) {
        page = await follow(page.next);
        pages.push(page);
        seen.push(...page.results.map((r: { id: number }) => r.id));
      }
      assert.equal(seen.length, page.count);
      assert.deepEqual(
        seen,
        [...seen].sort((a, b) => b - a),
        'newest first, no repeats',
      );
      assert.equal(new Set(seen).size, seen.length);
      // Back from the last page: each previous link gives exactly the page before it.
      for (let i = pages.length - 1; i > 0; i--) {
        const back = await follow(pages[i].previous);
        assert.deepEqual(
          back.results.map((r: { id: number }) => r.id),
          pages[i - 1].results.map((r: { id: number }) => r.id),
          `previous of page ${i + 1}`,
        );
      }
      // The document's page numbers still work and agree with the cursor pages.
      const third = await get(`/api/pipelines/${pipelineId}/runs/?page_size=100&page=3`);
      assert.deepEqual(third.results, pages[2].results);
      assert.match(third.previous, /page=2$/);
      const past = await h.request('GET', `/api/pipelines/${pipelineId}/runs/?page_size=100&page=22`, { token: admin });
      assert.equal(past.status, 404);
    });

    test('status, branch and trigger filters match exactly; their counts stop at 1,000 and say so', async (t) => {
      if (!h) return t.skip('PostgreSQL unreachable');
      const expected = (pick: (i: number) => boolean) => Array.from({ length: RUNS }, (_, i) => i).filter(pick).length;
      const branch = await get(`/api/pipelines/${pipelineId}/runs/?branch=develop&page_size=100`);
      assert.equal(
        branch.count,
        expected((i) => seededRun(i).branch === 'develop'),
      );
      assert.equal(branch.count_capped, false);
      assert.ok(branch.results.every((r: { branch: string }) => r.branch === 'develop'));
      const failed = await get(`/api/pipeline-runs/?status=failed&pipeline=${pipelineId}`);
      assert.equal(
        failed.count,
        expected((i) => seededRun(i).status === 'failed'),
      );
      assert.ok(failed.results.every((r: { status: string }) => r.status === 'failed'));
      const manual = await get(`/api/pipeline-runs/?trigger=api`);
      assert.ok(manual.results.every((r: { trigger: { type: string } }) => r.trigger.type === 'api'));
      const webhook = await get(`/api/pipelines/${pipelineId}/runs/?trigger=webhook`);
      assert.ok(webhook.results.every((r: { trigger: { type: string } }) => r.trigger.type === 'webhook'));
      const success = await get(`/api/pipeline-runs/?status=success&page_size=100`);
      assert.equal(expected((i) => seededRun(i).status === 'success') > 1000, true);
      assert.equal(success.count, 1000);
      assert.equal(success.count_capped, true);
      // Past the capped count, pages are still there for whoever follows next links or asks by number.
      const deep = await get(`/api/pipeline-runs/?status=success&page_size=100&page=11`);
      assert.equal(deep.results.length > 0, true);
      assert.ok(deep.results.every((r: { status: string }) => r.status === 'success'));
      const bad = await h.request('GET', '/api/pipeline-runs/?cursor=x12', { token: admin });
      assert.equal(bad.status, 400);
      assert.ok(bad.json.error.details.cursor, bad.text);
      const badTrigger = await h.request('GET', `/api/pipelines/${pipelineId}/runs/?trigger=cron`, { token: admin });
      assert.equal(badTrigger.status, 400);
    });

    test("a member's counts come from their projects' counters and hide other projects' history", async (t) => {
      if (!h) return t.skip('PostgreSQL unreachable');
      const member = await h.userToken(`member-${dialect}`, 'developer');
      const outsider = await get('/api/pipeline-runs/', member);
      // Users start in `default` only: none of the seeded history is theirs.
      assert.equal(outsider.results.filter((r: { project_id: number }) => r.project_id === projectId).length, 0);
      const me = await get('/api/users/me/', member);
      const added = await h.request('POST', `/api/projects/${projectId}/members/`, { token: admin, body: { username: me.username, role: 'viewer' } });
      assert.equal(added.status, 201, added.text);
      const insider = await get(`/api/pipeline-runs/?project=${projectId}`, member);
      assert.equal(insider.count, (await get(`/api/pipeline-runs/?project=${projectId}`)).count);
      const pipelines = await get(`/api/pipelines/?project=${projectId}`, member);
      assert.equal(pipelines.count, 1);
      const deliveries = await get('/api/webhook-deliveries/?provider=gitlab&page_size=5', member);
      assert.equal(deliveries.count, 350);
      assert.match(deliveries.next, /cursor=b\d+/);
      const second = await follow(deliveries.next, member);
      assert.equal(second.results.length, 5);
    });
  });
}
