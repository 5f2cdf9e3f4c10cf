/**
 * Audit events: who changed what, from where, and how. An event's diff holds the changed fields
 * only, before and after, with secrets redacted: a field wrapped in `Redacted` is compared by its
 * real value (so a changed secret still shows as changed) but written as `******`.
 */
export const AUDIT_REDACTED = '******';

/** What an audit event is about. `id` is text so targets of every kind fit one column. */
export interface AuditTarget {
  type: string;
  id: string | number | null;
  name: string | null;
}

/** Who acted, and from where; null actor = anonymous (a failed login, a webhook). */
export interface AuditActor {
  id: number;
  username: string;
}

export interface RequestOrigin {
  ip: string | null;
  userAgent: string | null;
}

export type AuditDiff = Record<string, { before?: unknown; after?: unknown }>;

export interface AuditEntry {
  /** `<target type>.<verb>`: pipeline.update, run.trigger, login.failed … */
  action: string;
  actor: AuditActor | null;
  origin: RequestOrigin | null;
  target: AuditTarget;
  /** The project the target belongs to, when projects exist (filter for maintainers). */
  projectId?: number | null;
  diff?: AuditDiff | null;
}

/** A value compared for real but never written. */
export class Redacted {
  constructor(readonly value: unknown) {}
  toJSON() {
    return AUDIT_REDACTED;
  }
}

/** A flat record of an object's audited fields (nested objects are compared as a whole). */
export type AuditView = Record<string, unknown>;

/**
 * The fields that differ between two views. Created objects (before null) list every field as
 * `after`; deleted ones every field as `before`. Values are compared by their JSON, secrets by
 * their real value.
 */
export function auditDiff(before: AuditView | null, after: AuditView | null): AuditDiff {
  // The changed keys only are sorted (an update usually changes one or two of a view's fields).
  const changed: string[] = [];
  if (before !== null)
    for (const key of Object.keys(before)) if (after === null || !Object.hasOwn(after, key) || !sameValue(before[key], after[key])) changed.push(key);
  if (after !== null) for (const key of Object.keys(after)) if (before === null || !Object.hasOwn(before, key)) changed.push(key);
  changed.sort();
  const diff: AuditDiff = {};
  for (const key of changed) {
    const entry: { before?: unknown; after?: unknown } = {};
    if (before !== null && Object.hasOwn(before, key)) entry.before = shown(before[key]);
    if (after !== null && Object.hasOwn(after, key)) entry.after = shown(after[key]);
    diff[key] = entry;
  }
  return diff;
}

/** Whether a diff shows no change, without listing its members (every audited change asks). */
export function isEmptyDiff(diff: AuditDiff): boolean {
  for (const key in diff) if (Object.hasOwn(diff, key)) return false;
  return true;
}

/**
 * Equal JSON (a secret by its real value). Every audited change compares each field of two views,
 * so no side is written out as JSON: the same value, or two different strings, booleans, nulls or
 * undefineds, are decided at once, plain arrays and objects member by member (`sameJson`).
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Redacted || b instanceof Redacted) return a instanceof Redacted && b instanceof Redacted && sameJson(a.value, b.value);
  return sameJson(a, b);
}

/**
 * Whether `JSON.stringify(a) === JSON.stringify(b)`, without building either text: a pipeline's
 * views hold its steps, inputs and triggers as arrays of objects, and writing both sides of each
 * out was most of the diff's cost. Objects are compared key by key in their order, as JSON writes
 * them, skipping what JSON leaves out; numbers (NaN and Infinity are `null` in JSON) and anything
 * that is not a plain object or array (toJSON, Date) go through JSON.stringify as before.
 */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (plainScalar(a) && plainScalar(b)) return false;
  if (!plainContainer(a) || !plainContainer(b)) return JSON.stringify(a) === JSON.stringify(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(inArray(a[i]), inArray(b[i]))) return false;
    return true;
  }
  // The members JSON writes, in order, side by side (those it leaves out skipped on either side).
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < aKeys.length && omitted(a[aKeys[i]!])) i++;
    while (j < bKeys.length && omitted(b[bKeys[j]!])) j++;
    if (i === aKeys.length || j === bKeys.length) return i === aKeys.length && j === bKeys.length;
    if (aKeys[i] !== bKeys[j] || !sameJson(a[aKeys[i]!], b[bKeys[j]!])) return false;
    i++;
    j++;
  }
}

const plainScalar = (v: unknown): boolean => v === null || v === undefined || typeof v === 'string' || typeof v === 'boolean';

/** An array, or an object JSON writes member by member (no prototype of its own, no toJSON). */
function plainContainer(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v) as unknown;
  return (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

/** What JSON writes for a member it would leave out of an object: in an array, `null`. */
const omitted = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';
const inArray = (v: unknown): unknown => (omitted(v) ? null : v);

const shown = (v: unknown): unknown => (v instanceof Redacted ? AUDIT_REDACTED : v === undefined ? null : v);
