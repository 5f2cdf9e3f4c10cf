/** The outcome of authenticating a webhook delivery; the reason is safe to log (no secrets). */
export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** A header as Node delivers it: absent, once, or repeated. */
export type HeaderValue = string | string[] | undefined | null;
