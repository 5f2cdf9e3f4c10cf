/**
 * Schedules: when a cron expression fires, in an IANA time zone, through croner.
 *
 * Daylight saving follows Vixie cron, which croner implements: a fixed time that does not exist on
 * the spring-forward day (02:30 in Berlin) fires once, at the first instant after the gap; a fixed
 * time that exists twice on the fall-back day fires once, at its first occurrence; interval
 * expressions (every 30 minutes) keep firing by real time through the repeated hour.
 *
 * Only minute-granular expressions are accepted (five fields, or a nickname such as `@daily`): a
 * seconds field would let one schedule start a run every second.
 */
import { Cron } from 'croner';

export const NICKNAMES = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'] as const;
/** How far ahead an expression must fire at least once (a 29 February schedule fires within 8 years). */
const HORIZON_MS = 9 * 366 * 24 * 3600 * 1000;

/** Why the time zone is refused, or null when it is a known IANA zone. */
export function timeZoneProblem(timeZone: string): string | null {
  if (typeof timeZone !== 'string' || timeZone.trim() === '') return 'A time zone is required (an IANA name such as Europe/Berlin or UTC).';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return null;
  } catch {
    return `Unknown time zone "${timeZone}" (use an IANA name such as Europe/Berlin or UTC).`;
  }
}

/** Why the expression is refused, or null when it fires, at most once a minute, in this zone. */
export function cronProblem(expression: string, timeZone = 'UTC'): string | null {
  const text = typeof expression === 'string' ? expression.trim() : '';
  if (text === '') return 'A cron expression is required.';
  if (text.length > 200) return 'A cron expression is at most 200 characters.';
  if (text.startsWith('@')) {
    if (!(NICKNAMES as readonly string[]).includes(text.toLowerCase())) return `Unknown nickname "${text}" (known: ${NICKNAMES.join(', ')}).`;
  } else {
    const fields = text.split(/\s+/).length;
    if (fields === 6 || fields === 7)
      return 'Seconds are not allowed: use five fields (minute hour day-of-month month day-of-week); the finest schedule is once a minute.';
    if (fields !== 5) return `A cron expression has five fields (minute hour day-of-month month day-of-week); this one has ${fields}.`;
  }
  const zone = timeZoneProblem(timeZone);
  if (zone) return zone;
  let cron: Cron;
  try {
    cron = new Cron(text, { timezone: timeZone, paused: true });
  } catch (error) {
    return `Not a valid cron expression: ${(error as Error).message}`;
  }
  const next = cron.nextRun(new Date());
  if (!next || next.getTime() - Date.now() > HORIZON_MS) return `"${text}" never fires (for example 30 February).`;
  return null;
}

/**
 * Checked, parsed expressions by zone and text. The scheduler asks for the same few expressions
 * over and over (twice per fire time), and checking one builds an Intl.DateTimeFormat, which costs
 * milliseconds; a Cron that is paused keeps no state between nextRun calls, so one is reused.
 */
const parsed = new Map<string, Cron>();
const PARSED_MAX = 5000;

function cronOf(expression: string, timeZone: string): Cron {
  const key = `${timeZone}\n${expression}`;
  const known = parsed.get(key);
  if (known) return known;
  const problem = cronProblem(expression, timeZone);
  if (problem) throw new Error(problem);
  const cron = new Cron(expression.trim(), { timezone: timeZone, paused: true });
  if (parsed.size >= PARSED_MAX) parsed.clear();
  parsed.set(key, cron);
  return cron;
}

/** The next `count` fire times strictly after `after`. */
export function nextFireTimes(expression: string, timeZone: string, after: Date, count = 5): Date[] {
  return cronOf(expression, timeZone).nextRuns(count, after);
}

/**
 * The fire times in (`after`, `until`], oldest first, at most `limit` of them; `more` says that
 * there were others beyond the limit (a server down for a month with an every-minute schedule).
 * `next` is the first fire time after `until` (null when there is none, or when `more`): the
 * scheduler's next `next_fire_at` without computing it again.
 */
export function fireTimesBetween(
  expression: string,
  timeZone: string,
  after: Date,
  until: Date,
  limit = 1000,
): { times: Date[]; more: boolean; next: Date | null } {
  const cron = cronOf(expression, timeZone);
  const times: Date[] = [];
  let cursor = after;
  for (;;) {
    const next = cron.nextRun(cursor);
    if (!next || next.getTime() > until.getTime()) return { times, more: false, next };
    if (times.length === limit) return { times, more: true, next: null };
    times.push(next);
    cursor = next;
  }
}

export type MissedFirePolicy = 'skip' | 'catch_up';

/**
 * What a scheduler does with the fire times that came due since it last looked: the last one is
 * due now when it is recent (within `graceMs`); older ones were missed while nothing ran, and are
 * skipped (recorded) or, with `catch_up`, make one run between them.
 */
export function dueFires(times: readonly Date[], now: Date, policy: MissedFirePolicy, graceMs: number): { run: Date | null; missed: Date[] } {
  if (times.length === 0) return { run: null, missed: [] };
  const last = times[times.length - 1]!;
  const onTime = now.getTime() - last.getTime() <= graceMs;
  if (onTime) return { run: last, missed: times.slice(0, -1) };
  if (policy === 'catch_up') return { run: last, missed: times.slice(0, -1) };
  return { run: null, missed: [...times] };
}
