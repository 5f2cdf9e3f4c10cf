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

export const NOTIFICATION_KINDS = ['webhook', 'slack', 'email'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** How an email channel talks to its SMTP server: STARTTLS required (default), TLS from the start (465), or plain. */
export const SMTP_SECURITY = ['starttls', 'tls', 'none'] as const;
export type SmtpSecurity = (typeof SMTP_SECURITY)[number];

/** A channel's settings that are not secret (its secret is sealed apart and never shown). */
export interface NotificationConfig {
  /** webhook: where the signed JSON is POSTed (slack's URL is its secret). */
  url?: string;
  /** email: the SMTP server and the message's addresses. */
  smtp_host?: string;
  smtp_port?: number;
  smtp_security?: SmtpSecurity;
  smtp_username?: string;
  from?: string;
  to?: string[];
}

/**
 * What a delivery says, and the JSON body a webhook receives as is (signed). Slack and email are
 * made from it when sent (slackMessage, emailMessage), so the outbox keeps one form.
 */
export interface NotificationPayload {
  /** A run's event, or `test` for "send test". */
  event: NotificationEvent | 'test';
  occurred_at: string;
  project: { id: number; name: string };
  pipeline: { id: number | null; name: string } | null;
  run: {
    id: number;
    number: number;
    status: string;
    branch: string;
    commit: string | null;
    trigger: string;
    triggered_by: string | null;
    reason: string | null;
    url: string;
    started_at: string | null;
    finished_at: string | null;
  } | null;
  /** The environment the run deploys to (approval requested, deployment finished), or null. */
  environment: string | null;
  /** One line a person reads: "deploy #12 failed on main". */
  summary: string;
}

const WORDS: Record<NotificationPayload['event'], string> = {
  run_failed: 'failed',
  run_fixed: 'is fixed',
  run_succeeded: 'succeeded',
  approval_requested: 'is waiting for approval',
  deployment_finished: 'finished deploying',
  test: 'test',
};

/** The summary line of an event of a run. */
export function eventSummary(
  event: NotificationPayload['event'],
  run: NonNullable<NotificationPayload['run']>,
  pipelineName: string,
  environment: string | null,
): string {
  const what = `${pipelineName} #${run.number}`;
  switch (event) {
    case 'approval_requested':
      // Without an environment it is a fork's pull request waiting for a maintainer (the fork gate).
      return environment
        ? `${what} is waiting for approval to deploy to ${environment} (${run.branch})`
        : `${what} is waiting for a maintainer's approval (${run.branch})`;
    case 'deployment_finished':
      return `${what} finished deploying to ${environment ?? 'its environment'}: ${run.status} (${run.branch})`;
    default:
      return `${what} ${WORDS[event]} on ${run.branch}${event === 'run_failed' && run.status !== 'failed' ? ` (${run.status})` : ''}`;
  }
}

/** `&`, `<` and `>` are Slack's control characters in text; everything else is shown as is. */
const slackEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The body of a Slack incoming webhook (`text` with a link, and the same as a section block). */
export function slackMessage(payload: NotificationPayload): { text: string; blocks: unknown[] } {
  const lines = [payload.run ? `<${payload.run.url}|${slackEscape(payload.summary)}>` : slackEscape(payload.summary)];
  if (payload.run?.reason) lines.push(slackEscape(payload.run.reason));
  if (payload.run?.commit)
    lines.push(`commit \`${payload.run.commit.slice(0, 12)}\`${payload.run.triggered_by ? ` by ${slackEscape(payload.run.triggered_by)}` : ''}`);
  const text = lines.join('\n');
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

/** An email's subject and plain-text body. */
export function emailMessage(payload: NotificationPayload): { subject: string; text: string } {
  const lines = [payload.summary, ''];
  if (payload.run) {
    lines.push(`Project:  ${payload.project.name}`, `Run:      ${payload.run.url}`, `Status:   ${payload.run.status}`, `Branch:   ${payload.run.branch}`);
    if (payload.run.commit) lines.push(`Commit:   ${payload.run.commit}`);
    if (payload.run.triggered_by) lines.push(`By:       ${payload.run.triggered_by}`);
    if (payload.run.reason) lines.push(`Reason:   ${payload.run.reason}`);
  }
  lines.push('', `-- AnsFlow (${payload.event} at ${payload.occurred_at})`);
  // A subject is one line whatever a pipeline or branch is named.
  return { subject: `[AnsFlow] ${payload.summary}`.replace(/[\r\n]+/g, ' ').slice(0, 200), text: lines.join('\n') };
}
