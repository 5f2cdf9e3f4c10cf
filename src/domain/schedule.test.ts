import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cronProblem, dueFires, fireTimesBetween, nextFireTimes, timeZoneProblem } from './schedule.js';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

test("the next five fire times, in the schedule's time zone", () => {
  assert.deepEqual(iso(nextFireTimes('0 9 * * 1-5', 'Europe/Berlin', new Date('2026-12-04T12:00:00Z'))), [
    '2026-12-07T08:00:00.000Z',
    '2026-12-08T08:00:00.000Z',
    '2026-12-09T08:00:00.000Z',
    '2026-12-10T08:00:00.000Z',
    '2026-12-11T08:00:00.000Z',
  ]);
  assert.deepEqual(iso(nextFireTimes('@hourly', 'UTC', new Date('2026-01-01T00:00:00Z'), 2)), ['2026-01-01T01:00:00.000Z', '2026-01-01T02:00:00.000Z']);
});

test('daylight saving: a missing time fires once after the gap, a repeated time fires once', () => {
  // Berlin springs forward on 2026-03-29 at 02:00 (to 03:00) and falls back on 2026-10-25 at 03:00 (to 02:00).
  assert.deepEqual(iso(nextFireTimes('30 2 * * *', 'Europe/Berlin', new Date('2026-03-28T12:00:00Z'), 2)), [
    '2026-03-29T01:00:00.000Z', // 03:00 CEST, the first instant after the gap
    '2026-03-30T00:30:00.000Z',
  ]);
  const fallBack = fireTimesBetween('30 2 * * *', 'Europe/Berlin', new Date('2026-10-24T12:00:00Z'), new Date('2026-10-25T12:00:00Z'));
  assert.deepEqual(iso(fallBack.times), ['2026-10-25T00:30:00.000Z'], '02:30 happens twice that night and fires once');
  // New York, 2026-11-01 01:30 happens twice
  assert.deepEqual(iso(fireTimesBetween('30 1 * * *', 'America/New_York', new Date('2026-10-31T12:00:00Z'), new Date('2026-11-01T12:00:00Z')).times), [
    '2026-11-01T05:30:00.000Z',
  ]);
});

test('bad expressions and zones are refused, saying why', () => {
  const cases: [string, string, RegExp][] = [
    ['* * * * * *', 'UTC', /Seconds are not allowed/],
    ['* * * *', 'UTC', /has five fields.*this one has 4/],
    ['0 0 30 2 *', 'UTC', /never fires/],
    ['0 0 31 4 *', 'UTC', /never fires/],
    ['61 * * * *', 'UTC', /Not a valid cron expression/],
    ['@sometimes', 'UTC', /Unknown nickname/],
    ['', 'UTC', /required/],
    ['0 9 * * *', 'Mars/Olympus_Mons', /Unknown time zone "Mars\/Olympus_Mons"/],
  ];
  for (const [expression, zone, why] of cases) assert.match(cronProblem(expression, zone) ?? '', why, `${expression} ${zone}`);
  assert.equal(cronProblem('0 0 29 2 *', 'UTC'), null, 'a leap day fires, rarely');
  assert.equal(cronProblem('*/5 * * * *', 'Asia/Kathmandu'), null);
  assert.equal(timeZoneProblem('UTC'), null);
  assert.throws(() => nextFireTimes('* * * * * *', 'UTC', new Date()), /Seconds are not allowed/);
});

test('fire times between two instants, capped', () => {
  const between = fireTimesBetween('*/10 * * * *', 'UTC', new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T01:00:00Z'));
  assert.equal(between.times.length, 6);
  assert.equal(between.more, false);
  assert.equal(between.times[0]!.toISOString(), '2026-01-01T00:10:00.000Z', 'the start is excluded');
  assert.equal(between.times[5]!.toISOString(), '2026-01-01T01:00:00.000Z', 'the end is included');
  assert.equal(between.next?.toISOString(), '2026-01-01T01:10:00.000Z', 'the first fire time after the end');
  const capped = fireTimesBetween('* * * * *', 'UTC', new Date('2026-01-01T00:00:00Z'), new Date('2026-01-31T00:00:00Z'), 100);
  assert.equal(capped.times.length, 100);
  assert.equal(capped.more, true);
  assert.equal(capped.next, null, 'capped: the next one is not known');
});

test('due fires: on time runs; missed ones are skipped, or caught up once', () => {
  const t = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m));
  assert.deepEqual(dueFires([], t(5), 'skip', 60_000), { run: null, missed: [] });
  assert.deepEqual(dueFires([t(5)], t(5), 'skip', 60_000), { run: t(5), missed: [] });
  assert.deepEqual(dueFires([t(1), t(2), t(3)], t(3), 'skip', 60_000), { run: t(3), missed: [t(1), t(2)] }, 'the last is on time');
  assert.deepEqual(dueFires([t(1), t(2)], t(30), 'skip', 60_000), { run: null, missed: [t(1), t(2)] }, 'everything was missed');
  assert.deepEqual(dueFires([t(1), t(2)], t(30), 'catch_up', 60_000), { run: t(2), missed: [t(1)] }, 'one run catches up');
});
