import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { emptyScheduleForm, fireTimeText, formFromSchedule, scheduleBody } from './schedule-form';
import type { Schedule } from '../api/delivery';

const stored: Schedule = {
  id: 1,
  pipeline_id: 2,
  description: 'nightly',
  cron: '30 2 * * 1-5',
  timezone: 'Europe/Berlin',
  branch: 'release',
  variables: { TARGET: 'staging' },
  enabled: false,
  catch_up: true,
  next_fire_at: null,
  next_fire_times: [],
  recent_fires: [],
  created_by: null,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
};

describe('schedule form', () => {
  it('round-trips a stored schedule into the same body', () => {
    assert.deepEqual(scheduleBody(formFromSchedule(stored)), {
      body: {
        cron: '30 2 * * 1-5',
        timezone: 'Europe/Berlin',
        branch: 'release',
        variables: { TARGET: 'staging' },
        enabled: false,
        catch_up: true,
        description: 'nightly',
      },
      errors: {},
    });
  });

  it("sends an empty branch as the pipeline's (null), skips empty variable rows, names bad ones", () => {
    const form = {
      ...emptyScheduleForm('UTC'),
      cron: ' 0  9 * * * ',
      variables: [
        { key: '', value: '' },
        { key: '1BAD', value: 'x' },
      ],
    };
    const { body, errors } = scheduleBody(form);
    assert.equal(body.cron, '0 9 * * *');
    assert.equal(body.branch, null);
    assert.deepEqual(body.variables, {});
    assert.deepEqual(Object.keys(errors), ['variables.1BAD']);
    assert.deepEqual(Object.keys(scheduleBody({ ...form, cron: '', timezone: '', variables: [] }).errors).sort(), ['cron', 'timezone']);
  });

  it("shows a fire time in the schedule's zone", () => {
    assert.match(fireTimeText('2026-03-02T01:30:00Z', 'Europe/Berlin', 'en-GB'), /^Mon, 2 Mar 2026, 02:30 CET$/);
    assert.equal(fireTimeText('2026-03-02T01:30:00Z', 'Not/AZone', 'en-GB'), '2026-03-02T01:30:00Z');
  });
});
