/** The outcome of authenticating a webhook delivery; the reason is safe to log (no secrets). */
export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** A header as Node delivers it: absent, once, or repeated. */
export type HeaderValue = string | string[] | undefined | null;

/**
 * Why a header that must arrive exactly once and non-empty cannot be used ("sent more than once",
 * "missing", "empty"); null when it is one non-empty string.
 */
export function headerProblem(name: string, value: HeaderValue): string | null {
  if (Array.isArray(value)) return `${name} must be sent exactly once`;
  if (value === undefined || value === null) return `Missing ${name} header`;
  if (value.length === 0) return `Empty ${name} header`;
  return null;
}
