/** 200 runs triggered at once: all finish, none lost, the global and per-pipeline limits hold, order is kept. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { waitFor } from '../support/wait.js';

const maxOverlap = (intervals: Array<[number, number]>) => {
  const points = intervals.flatMap(([s, e]) => [[s, 1] as const, [e, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of points) max = Math.max(max, (now += d));
  return max;
};

describe('concurrency limits', () => {
  let h: Harness;
  before(async () => {
    h = await startApi({ maxConcurrentRuns: 4, maxRunsPerPipeline: 1 });
  });
  after(() => h.close());

  test('200 runs at once over 5 pipelines: all succeed, ≤ 4 at once, ≤ 1 per pipeline, each pipeline in order', { timeout: 360_000 }, async () => {
    const token = await h.login();
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const p = await h.request('POST', '/api/pipelines/', {
        token,
        body: { name: `load-${i}`, steps: [{ name: 's', type: 'shell_command', config: { command: 'sleep 0.02' } }] },
      });
      ids.push(p.json.id);
    }
    const triggered = await Promise.all(Array.from({ length: 200 }, (_, i) => h.request('POST', `/api/pipelines/${ids[i % 5]}/run/`, { token, body: {} })));
    assert.ok(triggered.every((r) => r.status === 201));
    const runIds = triggered.map((r) => r.json.id as number);
    assert.equal(new Set(runIds).size, 200);

    const runs = await waitFor(
      async () => {
        const pages = await Promise.all([1, 2].map((page) => h.request('GET', `/api/pipeline-runs/?page_size=100&page=${page}`, { token })));
        const all = pages.flatMap((p) => p.json.results);
        return all.length === 200 && all.every((r: { status: string }) => r.status === 'success') ? all : undefined;
      },
      // A bound for a hang, not a speed target: each run takes a fresh sandbox (about 0.25 s of a
      // core each), and in the parallel suite on 2 cores the 200 once took over 120 s.
      300_000,
      'all 200 runs to succeed',
    );
    const details = await Promise.all(runs.map((r: { id: number }) => h.request('GET', `/api/pipeline-runs/${r.id}/`, { token })));
    const intervals = details.map((d) => [Date.parse(d.json.steps[0].started_at), Date.parse(d.json.steps[0].finished_at)] as [number, number]);
    assert.ok(maxOverlap(intervals) <= 4, `global limit: ${maxOverlap(intervals)}`);
    for (const id of ids) {
      const mine = details.filter((d) => d.json.pipeline.id === id).sort((a, b) => a.json.number - b.json.number);
      assert.equal(mine.length, 40);
      const spans = mine.map((d) => [Date.parse(d.json.steps[0].started_at), Date.parse(d.json.steps[0].finished_at)] as [number, number]);
      assert.ok(maxOverlap(spans) <= 1, `per-pipeline limit for ${id}`);
      for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![0], `pipeline ${id} runs start in order`);
    }
  });
});
