/**
 * The schedule dialog's state: cron, time zone, branch, variables, enabled, catch-up and a
 * description, loaded from a schedule and turned into the request body. The API checks the cron
 * expression and the zone (400 naming `cron` / `timezone`); here only what a form can tell.
 *
 * Pure TypeScript (no DOM, no React).
 */
import type { Schedule, ScheduleBody } from '../api/delivery';

export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface ScheduleForm {
  cron: string;
  timezone: string;
  /** '' = the pipeline's branch. */
  branch: string;
  variables: Array<{ key: string; value: string }>;
  enabled: boolean;
  catchUp: boolean;
  description: string;
}

export function emptyScheduleForm(timezone = 'UTC'): ScheduleForm {
  return { cron: '0 3 * * *', timezone, branch: '', variables: [], enabled: true, catchUp: false, description: '' };
}

export function formFromSchedule(s: Schedule): ScheduleForm {
  return {
    cron: s.cron,
    timezone: s.timezone,
    branch: s.branch ?? '',
    variables: Object.entries(s.variables).map(([key, value]) => ({ key, value })),
    enabled: s.enabled,
    catchUp: s.catch_up,
    description: s.description,
  };
}

export function scheduleBody(form: ScheduleForm): { body: ScheduleBody; errors: Record<string, string[]> } {
  const errors: Record<string, string[]> = {};
  if (form.cron.trim() === '') errors.cron = ['A cron expression is required (five fields, or @daily).'];
  if (form.timezone.trim() === '') errors.timezone = ['A time zone is required (UTC, Europe/Berlin).'];
  const variables: Record<string, string> = {};
  for (const row of form.variables) {
    const key = row.key.trim();
    if (key === '' && row.value === '') continue;
    if (!VARIABLE_NAME.test(key)) errors[`variables.${key}`] = ['Names use letters, digits and _ and do not start with a digit'];
    else if (Object.hasOwn(variables, key)) errors[`variables.${key}`] = [`${key} is given twice`];
    else variables[key] = row.value;
  }
  return {
    body: {
      cron: form.cron.trim().replace(/\s+/g, ' '),
      timezone: form.timezone.trim(),
      branch: form.branch.trim() === '' ? null : form.branch.trim(),
      variables,
      enabled: form.enabled,
      catch_up: form.catchUp,
      description: form.description.trim(),
    },
    errors,
  };
}

/** A fire time as the user reads it: in the schedule's zone, with the zone named. */
export function fireTimeText(iso: string, timezone: string, locale?: string): string {
  try {
    return new Intl.DateTimeFormat(locale, {
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      timeZone: timezone,
      timeZoneName: 'short',
    }).format(new Date(iso));
  } catch {
    return iso;
  }
}
