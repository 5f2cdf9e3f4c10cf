/**
 * Notifications: which events a finished run raises, where a channel may send them, and how a
 * receiver checks a webhook came from us (HMAC-SHA256 of the exact body, in
 * `X-AnsFlow-Signature-256: sha256=<hex>`, as GitHub signs its deliveries).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isMetadataHost } from './metadata-address.js';

export const NOTIFICATION_EVENTS = ['run_failed', 'run_fixed', 'run_succeeded', 'approval_requested', 'deployment_finished'] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

export const SIGNATURE_HEADER = 'X-AnsFlow-Signature-256';

const FAILED = new Set(['failed', 'timeout', 'error']);

/**
 * The events a run's end raises: `run_fixed` is the first success after a failure of the same
 * pipeline and branch (`previous` is that run's status, or null when there was none); a cancelled
 * run raises nothing.
 */
export function runEndEvents(status: string, previous: string | null): NotificationEvent[] {
  if (status === 'success') return previous !== null && FAILED.has(previous) ? ['run_succeeded', 'run_fixed'] : ['run_succeeded'];
  if (FAILED.has(status)) return ['run_failed'];
  return [];
}

/** Why a channel may not send to this URL, or null. Only http(s), never a cloud metadata address. */
export function notificationUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'Not a URL.';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `Only http and https URLs are allowed, not ${url.protocol.replace(/:$/, '')}.`;
  if (url.username || url.password) return 'Put credentials in the channel secret, not in the URL.';
  // The hostname as the URL parser wrote it (IPv6 in brackets), which is what isMetadataHost reads.
  if (isMetadataHost(url.hostname)) return 'The cloud metadata address is not a notification receiver.';
  return null;
}

/** The signature header's value for a body. */
export function signBody(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Whether a header value is the body's signature (constant-time). */
export function verifySignature(body: string | Buffer, secret: string, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signBody(body, secret));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
